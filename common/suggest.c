/* suggest: the closest known word to a mistyped one (see suggest.h). */
#include "suggest.h"

#include <string.h>

int suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 255;
    int d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

void suggest_init(struct suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->bestd = 1000;
}

void suggest_add(struct suggest *s, const char *cand)
{
    if (!cand || !*cand)
        return;
    int d = suggest_distance(s->word, cand);
    if (d < s->bestd) {
        s->bestd = d;
        s->best = cand;
    }
}

const char *suggest_best(const struct suggest *s)
{
    size_t wl = strlen(s->word);
    int limit = wl <= 4 ? 1 : wl <= 8 ? 2 : 3;
    return s->best && s->bestd <= limit ? s->best : NULL;
}
