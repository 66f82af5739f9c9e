/* report_sweep: sweep rankings and parameter surfaces (see report_sweep.h). */
#include "host/report/report_sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/report/report_svg.h"

#define MAX_KEYS 8
#define MAX_VALUES 256

struct set {
    size_t index; /* in the strategies array */
    const char *name;
    double sharpe;
    char *kv[MAX_KEYS][2]; /* key, value (heap) */
    size_t n_kv;
};

/* Base name length of "BASE[...]" or 0 when the name is not a sweep instance. */
static size_t base_len(const char *name)
{
    const char *b = strchr(name, '[');
    size_t n = strlen(name);
    return b && b != name && n > 2 && name[n - 1] == ']' ? (size_t)(b - name) : 0;
}

static void set_free(struct set *s)
{
    for (size_t k = 0; k < s->n_kv; k++) {
        free(s->kv[k][0]);
        free(s->kv[k][1]);
    }
}

static int parse_set(struct set *s)
{
    const char *p = strchr(s->name, '[') + 1;
    const char *end = s->name + strlen(s->name) - 1;
    while (p < end && s->n_kv < MAX_KEYS) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq) {
            s->kv[s->n_kv][0] = strndup(p, (size_t)(eq - p));
            s->kv[s->n_kv][1] = strndup(eq + 1, (size_t)(stop - eq - 1));
            if (!s->kv[s->n_kv][0] || !s->kv[s->n_kv][1]) {
                s->n_kv++;
                return -1;
            }
            s->n_kv++;
        }
        p = stop + 1;
    }
    return 0;
}

static int by_sharpe(const void *a, const void *b)
{
    const struct set *x = a, *y = b;
    double u = isfinite(x->sharpe) ? x->sharpe : -INFINITY;
    double v = isfinite(y->sharpe) ? y->sharpe : -INFINITY;
    return (u < v) - (u > v);
}

/* Numbers in numeric order, before any text (text in byte order). */
static int by_value(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    char *ex, *ey;
    double u = strtod(x, &ex), v = strtod(y, &ey);
    int nx = *x && !*ex, ny = *y && !*ey;
    if (nx && ny && u != v)
        return (u > v) - (u < v);
    if (nx != ny)
        return ny - nx;
    return strcmp(x, y);
}

/* Index of value v in list (appended when new). */
static size_t value_index(const char **list, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i], v))
            return i;
    if (*n < MAX_VALUES)
        list[(*n)++] = v;
    return *n - 1;
}

static void cellf(FILE *out, double v, int pct)
{
    if (!isfinite(v))
        fputs("<td data-v=\"\">-</td>", out);
    else if (pct)
        fprintf(out, "<td data-v=\"%.17g\">%.2f%%</td>", v, 100 * v);
    else
        fprintf(out, "<td data-v=\"%.17g\">%.3f</td>", v, v);
}

static int surface(FILE *out, const char *base, struct set *sets, size_t n)
{
    const char *rows[MAX_VALUES], *cols[MAX_VALUES];
    size_t nr = 0, nc = 0;
    int two = sets[0].n_kv >= 2;
    for (size_t i = 0; i < n; i++) {
        value_index(rows, &nr, sets[i].kv[0][1]);
        if (two)
            value_index(cols, &nc, sets[i].kv[1][1]);
    }
    qsort(rows, nr, sizeof(*rows), by_value);
    if (two)
        qsort(cols, nc, sizeof(*cols), by_value);
    if (!two) { /* one key: a single row, the values across */
        memcpy(cols, rows, nr * sizeof(*rows));
        nc = nr;
        nr = 1;
        rows[0] = "Sharpe";
    }
    double *v = malloc(nr * nc * sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < nr * nc; i++)
        v[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        size_t r = two ? value_index(rows, &nr, sets[i].kv[0][1]) : 0;
        size_t c = value_index(cols, &nc, sets[i].kv[two ? 1 : 0][1]);
        if (r < nr && c < nc && isfinite(sets[i].sharpe) &&
            (isnan(v[r * nc + c]) || sets[i].sharpe > v[r * nc + c]))
            v[r * nc + c] = sets[i].sharpe;
    }
    char id[160];
    snprintf(id, sizeof(id), "sweep-%s", base);
    fputs("<h3>Parameter surface (Sharpe)</h3>\n", out);
    svg_heatmap(out, id, rows, nr, cols, nc, v, two ? sets[0].kv[0][0] : "",
                sets[0].kv[two ? 1 : 0][0]);
    free(v);
    return 0;
}

static int group(FILE *out, const json_t *arr, const char *base, size_t blen, size_t from)
{
    size_t cap = json_array_size(arr), n = 0;
    struct set *sets = calloc(cap, sizeof(*sets));
    if (!sets)
        return -1;
    int rc = 0;
    for (size_t i = from; i < cap; i++) {
        const json_t *s = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!name || base_len(name) != blen || strncmp(name, base, blen))
            continue;
        struct set *x = &sets[n++];
        x->index = i;
        x->name = name;
        const json_t *sh = json_object_get(json_object_get(s, "stats"), "sharpe");
        x->sharpe = json_is_number(sh) ? json_number_value(sh) : NAN;
        if (parse_set(x)) {
            rc = -1;
            goto out;
        }
    }
    qsort(sets, n, sizeof(*sets), by_sharpe);
    fputs("<h2>Sweep: ", out);
    fwrite(base, 1, blen, out);
    fprintf(out, " (%zu parameter sets)</h2>\n<h3>Ranking by Sharpe</h3>\n", n);
    fputs("<table class=\"sortable\"><thead><tr><th>rank</th>", out);
    for (size_t k = 0; k < sets[0].n_kv; k++) {
        fputs("<th>", out);
        html_escape(out, sets[0].kv[k][0]);
        fputs("</th>", out);
    }
    fputs("<th>Sharpe</th><th>total return</th><th>max DD</th><th>round trips</th>"
          "<th>excess</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const json_t *st = json_object_get(json_array_get(arr, sets[i].index), "stats");
        fprintf(out, "<tr><td data-v=\"%zu\"><a href=\"#s%zu\">%zu</a></td>", i + 1,
                sets[i].index, i + 1);
        for (size_t k = 0; k < sets[0].n_kv; k++) {
            const char *v = k < sets[i].n_kv ? sets[i].kv[k][1] : "";
            char *end;
            double d = strtod(v, &end);
            if (*v && !*end)
                fprintf(out, "<td data-v=\"%.17g\">", d);
            else
                fputs("<td>", out);
            html_escape(out, v);
            fputs("</td>", out);
        }
        cellf(out, sets[i].sharpe, 0);
        const json_t *tr = json_object_get(st, "total_return"),
                     *dd = json_object_get(st, "max_drawdown"),
                     *rt = json_object_get(st, "round_trips"),
                     *ex = json_object_get(st, "excess_return");
        cellf(out, json_is_number(tr) ? json_number_value(tr) : NAN, 1);
        cellf(out, json_is_number(dd) ? json_number_value(dd) : NAN, 1);
        fprintf(out, "<td>%lld</td>", (long long)json_integer_value(rt));
        cellf(out, json_is_number(ex) ? json_number_value(ex) : NAN, 1);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    if (sets[0].n_kv >= 1) {
        char b[128];
        snprintf(b, sizeof(b), "%.*s", (int)(blen < 100 ? blen : 100), base);
        rc = surface(out, b, sets, n);
    }
out:
    for (size_t i = 0; i < n; i++)
        set_free(&sets[i]);
    free(sets);
    return rc;
}

int report_sweeps(FILE *out, const json_t *arr)
{
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(arr, i), "name"));
        size_t blen = name ? base_len(name) : 0;
        if (!blen)
            continue;
        int seen = 0; /* the group is written at its first member */
        for (size_t j = 0; j < i && !seen; j++) {
            const char *o = json_string_value(json_object_get(json_array_get(arr, j), "name"));
            seen = o && base_len(o) == blen && !strncmp(o, name, blen);
        }
        if (!seen && group(out, arr, name, blen, i))
            return -1;
    }
    return 0;
}
