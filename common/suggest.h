/*
 * suggest: "did you mean" for a mistyped word (a config key, a command-line option).
 *
 * One rule for the whole project: the candidate with the smallest edit distance wins
 * (the first one on a tie) when it is at most 1 edit away for words of up to 4 bytes,
 * 2 for up to 8 bytes, 3 beyond; otherwise there is no suggestion.
 *
 *     struct suggest s;
 *     suggest_init(&s, "prot");
 *     suggest_add(&s, "port");
 *     suggest_add(&s, "host");
 *     const char *best = suggest_best(&s);   // "port"
 *
 * Candidates are borrowed: they must outlive the struct suggest.
 */
#ifndef QMTL_COMMON_SUGGEST_H
#define QMTL_COMMON_SUGGEST_H

/* Edit distance (optimal string alignment: insert, delete, substitute, swap two adjacent
 * bytes, each costs 1). Words longer than 64 bytes give 255. */
int suggest_distance(const char *a, const char *b);

struct suggest {
    const char *word;
    const char *best;
    int bestd;
};

void suggest_init(struct suggest *s, const char *word);
/* Consider one candidate (NULL and "" are ignored). */
void suggest_add(struct suggest *s, const char *cand);
/* The closest candidate when close enough, else NULL. An exact match counts (distance 0). */
const char *suggest_best(const struct suggest *s);

#endif
