/* report_csv: CSV exports of a results document (see report_csv.h). */
#include "host/report/report_csv.h"

#include <string.h>

#include "numfmt.h"

static void field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* ",<number>": integers as integers, reals in their shortest form, null/other empty. */
static void number(FILE *out, const json_t *v)
{
    fputc(',', out);
    if (json_is_integer(v)) {
        fprintf(out, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        char buf[NUMFMT_DOUBLE_MAX];
        if (numfmt_double(json_real_value(v), buf, sizeof(buf)) > 0)
            fputs(buf, out);
    }
}

static int equity_rows(FILE *out, const char *name, const json_t *eq, char *err, size_t errlen)
{
    const json_t *ts = json_object_get(eq, "ts"), *e = json_object_get(eq, "equity");
    const json_t *b = json_object_get(eq, "benchmark"), *m = json_object_get(eq, "in_market");
    size_t n = json_array_size(ts);
    if (!json_is_array(ts) || json_array_size(e) != n || json_array_size(b) != n ||
        json_array_size(m) != n) {
        snprintf(err, errlen, "'%s': equity columns missing or of different lengths", name);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        field(out, name);
        number(out, json_array_get(ts, i));
        number(out, json_array_get(e, i));
        number(out, json_array_get(b, i));
        number(out, json_array_get(m, i));
        fputc('\n', out);
    }
    return 0;
}

int report_equity_csv(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    fputs("strategy,ts,equity,benchmark,in_market\n", out);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "strategies"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!name || equity_rows(out, name, json_object_get(s, "equity"), err, errlen))
            return name ? -1 : (snprintf(err, errlen, "strategy %zu: no name", i), -1);
    }
    const json_t *pf = json_object_get(doc, "portfolio");
    if (pf && equity_rows(out, "(portfolio)", json_object_get(pf, "equity"), err, errlen))
        return -1;
    if (ferror(out)) {
        snprintf(err, errlen, "write error");
        return -1;
    }
    return 0;
}

int report_trades_csv(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    static const char *const cols[] = {"entry_ts", "exit_ts", "qty",  "entry_price",
                                       "exit_price", "pnl",   "fees", "bars"};
    fputs("strategy,symbol,side,entry_ts,exit_ts,qty,entry_price,exit_price,pnl,fees,bars\n", out);
    size_t i, j;
    const json_t *s, *t;
    json_array_foreach(json_object_get(doc, "strategies"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!name) {
            snprintf(err, errlen, "strategy %zu: no name", i);
            return -1;
        }
        json_array_foreach(json_object_get(s, "trades"), j, t)
        {
            const char *sym = json_string_value(json_object_get(t, "symbol"));
            const char *side = json_string_value(json_object_get(t, "side"));
            field(out, name);
            fputc(',', out);
            field(out, sym ? sym : "");
            fputc(',', out);
            field(out, side ? side : "");
            for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
                number(out, json_object_get(t, cols[c]));
            fputc('\n', out);
        }
    }
    if (ferror(out)) {
        snprintf(err, errlen, "write error");
        return -1;
    }
    return 0;
}
