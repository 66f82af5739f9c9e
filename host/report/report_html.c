/* report_html: the self-contained HTML report (see report_html.h). */
#include "host/report/report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/report/report_svg.h"
#include "host/report/report_sweep.h"

#define MAX_TRADE_ROWS 1000

/* ------------------------------------------------------------------ checking */

static int bad(char *err, size_t errlen, const char *where, const char *what)
{
    snprintf(err, errlen, "%s: %s", where, what);
    return -1;
}

static int check_column(const json_t *eq, const char *where, const char *key, size_t n, int ints,
                        int nulls, char *err, size_t errlen)
{
    char w[160];
    snprintf(w, sizeof(w), "%s.equity.%s", where, key);
    const json_t *a = json_object_get(eq, key);
    if (!json_is_array(a))
        return bad(err, errlen, w, "missing or not an array");
    if (n != (size_t)-1 && json_array_size(a) != n)
        return bad(err, errlen, w, "not as long as equity.ts");
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        int okv = ints ? json_is_integer(v) : json_is_number(v) || (nulls && json_is_null(v));
        if (!okv) {
            snprintf(w + strlen(w), sizeof(w) - strlen(w), "[%zu]", i);
            return bad(err, errlen, w, ints ? "not an integer" : "not a number");
        }
        if (ints && i > 0 && json_integer_value(v) <= json_integer_value(json_array_get(a, i - 1)))
            return bad(err, errlen, w, "timestamps not increasing");
    }
    return 0;
}

/* A strategy or the portfolio: stats object, equity columns, initial_cash > 0. */
static int check_results(const json_t *o, const char *where, char *err, size_t errlen)
{
    char w[160];
    if (!json_is_object(o))
        return bad(err, errlen, where, "not an object");
    if (!json_is_object(json_object_get(o, "stats"))) {
        snprintf(w, sizeof(w), "%s.stats", where);
        return bad(err, errlen, w, "missing or not an object");
    }
    const json_t *ic = json_object_get(o, "initial_cash");
    if (!json_is_number(ic) || !(json_number_value(ic) > 0)) {
        snprintf(w, sizeof(w), "%s.initial_cash", where);
        return bad(err, errlen, w, "missing or not a positive number");
    }
    const json_t *eq = json_object_get(o, "equity");
    if (!json_is_object(eq)) {
        snprintf(w, sizeof(w), "%s.equity", where);
        return bad(err, errlen, w, "missing or not an object");
    }
    if (check_column(eq, where, "ts", (size_t)-1, 1, 0, err, errlen))
        return -1;
    size_t n = json_array_size(json_object_get(eq, "ts"));
    if (check_column(eq, where, "equity", n, 0, 0, err, errlen) ||
        check_column(eq, where, "benchmark", n, 0, 1, err, errlen))
        return -1;
    return 0;
}

int report_doc_check(const json_t *doc, char *err, size_t errlen)
{
    if (!json_is_object(doc))
        return bad(err, errlen, "document", "not a JSON object");
    const json_t *arr = json_object_get(doc, "strategies");
    if (!json_is_array(arr))
        return bad(err, errlen, "strategies", "missing or not an array");
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        char w[64];
        snprintf(w, sizeof(w), "strategies[%zu]", i);
        if (check_results(s, w, err, errlen))
            return -1;
        if (!json_is_string(json_object_get(s, "name")))
            return bad(err, errlen, w, "no \"name\" string");
        const json_t *t = json_object_get(s, "trades");
        if (t && !json_is_array(t))
            return bad(err, errlen, w, "\"trades\" is not an array");
        size_t j;
        const json_t *x;
        json_array_foreach(t, j, x)
        {
            if (!json_is_object(x))
                return bad(err, errlen, w, "a trade is not an object");
        }
    }
    const json_t *pf = json_object_get(doc, "portfolio");
    if (pf && check_results(pf, "portfolio", err, errlen))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

enum fmt { F_PCT, F_NUM, F_INT, F_MONEY, F_TEXT };

/* A table cell with its sort value in data-v. */
static void cell(FILE *out, double v, enum fmt f)
{
    if (!isfinite(v)) {
        fputs("<td data-v=\"\">-</td>", out);
        return;
    }
    fprintf(out, "<td data-v=\"%.17g\"%s>", v, v < 0 && f != F_INT ? " class=\"neg\"" : "");
    switch (f) {
    case F_PCT: fprintf(out, "%.2f%%", 100 * v); break;
    case F_NUM: fprintf(out, "%.3f", v); break;
    case F_INT: fprintf(out, "%.0f", v); break;
    default: fprintf(out, "%.2f", v); break;
    }
    fputs("</td>", out);
}

static void text_cell(FILE *out, const char *s)
{
    fputs("<td>", out);
    html_escape(out, s);
    fputs("</td>", out);
}

static void date_cell(FILE *out, int64_t ts)
{
    time_t t = (time_t)ts;
    struct tm tm;
    char buf[32] = "";
    if (gmtime_r(&t, &tm))
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    fprintf(out, "<td data-v=\"%lld\">%s</td>", (long long)ts, buf);
}

/* The equity columns as plain arrays (heap; free *ts, *eq, *bm). 0 or -1. */
static int columns(const json_t *o, int64_t **ts, double **eq, double **bm, size_t *n)
{
    const json_t *e = json_object_get(o, "equity");
    const json_t *jt = json_object_get(e, "ts"), *je = json_object_get(e, "equity"),
                 *jb = json_object_get(e, "benchmark");
    *n = json_array_size(jt);
    *ts = malloc((*n ? *n : 1) * sizeof(**ts));
    *eq = malloc((*n ? *n : 1) * sizeof(**eq));
    *bm = malloc((*n ? *n : 1) * sizeof(**bm));
    if (!*ts || !*eq || !*bm) {
        free(*ts);
        free(*eq);
        free(*bm);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        (*ts)[i] = json_integer_value(json_array_get(jt, i));
        const json_t *v = json_array_get(je, i), *b = json_array_get(jb, i);
        (*eq)[i] = json_number_value(v);
        (*bm)[i] = json_is_number(b) ? json_number_value(b) : NAN;
    }
    return 0;
}

/* ------------------------------------------------------------------ sections */

struct stat_row {
    const char *label, *key;
    enum fmt f;
};

static const struct stat_row STAT_ROWS[] = {
    {"Total return", "total_return", F_PCT},
    {"CAGR", "cagr", F_PCT},
    {"Volatility (annualized)", "volatility", F_PCT},
    {"Sharpe", "sharpe", F_NUM},
    {"Sortino", "sortino", F_NUM},
    {"Calmar", "calmar", F_NUM},
    {"Max drawdown", "max_drawdown", F_PCT},
    {"Max drawdown duration (bars)", "max_drawdown_bars", F_INT},
    {"Exposure (time in market)", "exposure", F_PCT},
    {"Turnover (x initial cash)", "turnover", F_NUM},
    {"Fees paid", "fees", F_MONEY},
    {"Round trips", "round_trips", F_INT},
    {"Win rate", "win_rate", F_PCT},
    {"Profit factor", "profit_factor", F_NUM},
    {"Average win", "avg_win", F_MONEY},
    {"Average loss", "avg_loss", F_MONEY},
    {"Longest losing streak", "max_losing_streak", F_INT},
    {"Benchmark return (buy and hold)", "benchmark_return", F_PCT},
    {"Excess return", "excess_return", F_PCT},
    {"Final equity", "final_equity", F_MONEY},
    {"Bars", "bars", F_INT},
    {"Bar interval (s)", "interval_s", F_INT},
};

static void stats_table(FILE *out, const json_t *stats)
{
    fputs("<table class=\"stats\"><tbody>\n", out);
    for (size_t i = 0; i < sizeof(STAT_ROWS) / sizeof(STAT_ROWS[0]); i++) {
        fprintf(out, "<tr><th>%s</th>", STAT_ROWS[i].label);
        cell(out, num(stats, STAT_ROWS[i].key), STAT_ROWS[i].f);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void monthly_table(FILE *out, const int64_t *ts, const double *eq, size_t n, double initial)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    fputs("<table class=\"monthly\"><thead><tr><th>year</th>", out);
    for (int m = 0; m < 12; m++)
        fprintf(out, "<th>%s</th>", mon[m]);
    fputs("<th>year</th></tr></thead><tbody>\n", out);
    double prev_month = initial, prev_year = initial;
    int cur_year = -1;
    double row[12];
    for (size_t i = 0; i < n; i++) {
        time_t t = (time_t)ts[i];
        struct tm tm;
        if (!gmtime_r(&t, &tm))
            continue;
        if (tm.tm_year != cur_year) {
            for (int m = 0; m < 12; m++)
                row[m] = NAN;
            cur_year = tm.tm_year;
        }
        int last_of_month = 1, last_of_year = 1;
        if (i + 1 < n) {
            time_t t2 = (time_t)ts[i + 1];
            struct tm tm2;
            if (gmtime_r(&t2, &tm2)) {
                last_of_year = tm2.tm_year != tm.tm_year;
                last_of_month = last_of_year || tm2.tm_mon != tm.tm_mon;
            }
        }
        if (last_of_month) {
            row[tm.tm_mon] = prev_month != 0 ? eq[i] / prev_month - 1 : NAN;
            prev_month = eq[i];
        }
        if (last_of_year) {
            fprintf(out, "<tr><th>%d</th>", tm.tm_year + 1900);
            for (int m = 0; m < 12; m++)
                cell(out, row[m], F_PCT);
            cell(out, prev_year != 0 ? eq[i] / prev_year - 1 : NAN, F_PCT);
            fputs("</tr>\n", out);
            prev_year = eq[i];
        }
    }
    fputs("</tbody></table>\n", out);
}

static void trades_table(FILE *out, const json_t *trades)
{
    size_t n = json_array_size(trades);
    fprintf(out, "<h3>Round trips (%zu)</h3>\n", n);
    if (!n) {
        fputs("<p>No closed round trip.</p>\n", out);
        return;
    }
    fputs("<table class=\"sortable trades\"><thead><tr><th>#</th><th>symbol</th><th>side</th>"
          "<th>entry</th><th>exit</th><th>qty</th><th>entry price</th><th>exit price</th>"
          "<th>pnl</th><th>fees</th><th>bars</th></tr></thead><tbody>\n",
          out);
    for (size_t i = 0; i < n && i < MAX_TRADE_ROWS; i++) {
        const json_t *t = json_array_get(trades, i);
        fputs("<tr>", out);
        cell(out, (double)(i + 1), F_INT);
        text_cell(out, str(t, "symbol"));
        text_cell(out, str(t, "side"));
        date_cell(out, json_integer_value(json_object_get(t, "entry_ts")));
        date_cell(out, json_integer_value(json_object_get(t, "exit_ts")));
        cell(out, num(t, "qty"), F_MONEY);
        cell(out, num(t, "entry_price"), F_MONEY);
        cell(out, num(t, "exit_price"), F_MONEY);
        cell(out, num(t, "pnl"), F_MONEY);
        cell(out, num(t, "fees"), F_MONEY);
        cell(out, num(t, "bars"), F_INT);
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    if (n > MAX_TRADE_ROWS)
        fprintf(out, "<p>First %d of %zu round trips shown (all are in --trades-csv).</p>\n",
                MAX_TRADE_ROWS, n);
}

/* Charts, monthly returns and statistics of a strategy or the portfolio. */
static int results_section(FILE *out, const char *id, const json_t *o)
{
    int64_t *ts;
    double *eq, *bm;
    size_t n;
    if (columns(o, &ts, &eq, &bm, &n))
        return -1;
    double initial = num(o, "initial_cash");
    double *dd = malloc((n ? n : 1) * sizeof(*dd));
    if (!dd) {
        free(ts);
        free(eq);
        free(bm);
        return -1;
    }
    double peak = initial;
    for (size_t i = 0; i < n; i++) {
        peak = fmax(peak, eq[i]);
        dd[i] = peak > 0 ? eq[i] / peak - 1 : 0;
    }
    char cid[96];
    fputs("<h3>Equity</h3>\n", out);
    struct svg_series s[] = {{eq, "#1f6fb2", "strategy"}, {bm, "#999999", "buy and hold"}};
    snprintf(cid, sizeof(cid), "%s-equity", id);
    svg_line_chart(out, cid, ts, n, s, 2, 0, 0);
    fputs("<h3>Drawdown</h3>\n", out);
    struct svg_series d[] = {{dd, "#c0392b", "drawdown"}};
    snprintf(cid, sizeof(cid), "%s-drawdown", id);
    svg_line_chart(out, cid, ts, n, d, 1, 1, 1);
    fputs("<div class=\"cols\"><div><h3>Statistics</h3>\n", out);
    stats_table(out, json_object_get(o, "stats"));
    fputs("</div><div><h3>Monthly returns</h3>\n", out);
    monthly_table(out, ts, eq, n, initial);
    fputs("</div></div>\n", out);
    free(dd);
    free(ts);
    free(eq);
    free(bm);
    return 0;
}

static void comparison(FILE *out, const json_t *arr, const json_t *pf)
{
    static const struct stat_row cols[] = {
        {"total return", "total_return", F_PCT}, {"CAGR", "cagr", F_PCT},
        {"volatility", "volatility", F_PCT},     {"Sharpe", "sharpe", F_NUM},
        {"Sortino", "sortino", F_NUM},           {"max DD", "max_drawdown", F_PCT},
        {"exposure", "exposure", F_PCT},         {"round trips", "round_trips", F_INT},
        {"win rate", "win_rate", F_PCT},         {"profit factor", "profit_factor", F_NUM},
        {"fees", "fees", F_MONEY},               {"benchmark", "benchmark_return", F_PCT},
        {"excess", "excess_return", F_PCT},
    };
    size_t nc = sizeof(cols) / sizeof(cols[0]);
    fputs("<h2 id=\"comparison\">Comparison</h2>\n<table class=\"sortable\"><thead><tr>"
          "<th>strategy</th><th>status</th>",
          out);
    for (size_t c = 0; c < nc; c++)
        fprintf(out, "<th>%s</th>", cols[c].label);
    fputs("</tr></thead><tbody>\n", out);
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        fprintf(out, "<tr><td><a href=\"#s%zu\">", i);
        html_escape(out, str(s, "name"));
        fputs("</a></td>", out);
        text_cell(out, str(s, "status"));
        for (size_t c = 0; c < nc; c++)
            cell(out, num(json_object_get(s, "stats"), cols[c].key), cols[c].f);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>", out);
    if (pf) {
        fputs("<tfoot><tr><td><a href=\"#portfolio\">portfolio</a></td><td></td>", out);
        for (size_t c = 0; c < nc; c++)
            cell(out, num(json_object_get(pf, "stats"), cols[c].key), cols[c].f);
        fputs("</tr></tfoot>", out);
    }
    fputs("</table>\n", out);
}

static const char STYLE[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}"
    "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:36px}"
    "h3{font-size:15px;margin:18px 0 6px}table{border-collapse:collapse;margin:6px 0}"
    "td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}"
    "th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}"
    "table.sortable th{cursor:pointer}table.sortable th:hover{background:#e8eef6}"
    ".neg{color:#b03a2e}svg.chart{width:100%;height:auto;display:block;border:1px solid #ddd}"
    "svg.heat{width:auto}.cols{display:flex;gap:32px;flex-wrap:wrap}"
    ".trades{max-height:none}#qmtl-errors{color:#b03a2e}";

static const char SCRIPT[] =
    "(function(){\n"
    "function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent:v;}\n"
    "function sortBy(th){var t=th.closest('table'),b=t.tBodies[0];"
    "var i=Array.prototype.indexOf.call(th.parentNode.children,th);"
    "var asc=th.getAttribute('data-dir')!=='asc';th.setAttribute('data-dir',asc?'asc':'desc');"
    "var rows=Array.prototype.slice.call(b.rows);"
    "rows.sort(function(x,y){var a=key(x.cells[i]),c=key(y.cells[i]);"
    "var na=parseFloat(a),nc=parseFloat(c);"
    "var r=(!isNaN(na)&&!isNaN(nc))?na-nc:String(a).localeCompare(String(c));"
    "return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});}\n"
    "document.querySelectorAll('table.sortable thead th').forEach(function(th){"
    "th.addEventListener('click',function(){sortBy(th);});});\n"
    "document.querySelectorAll('svg.chart').forEach(function(s){var r=s.getBoundingClientRect();"
    "s.setAttribute('data-box',[r.left+window.scrollX,r.top+window.scrollY,r.width,r.height]"
    ".map(Math.round).join(','));});\n"
    "document.body.setAttribute('data-rendered','ok');\n"
    "})();\n";

int report_html_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    if (report_doc_check(doc, err, errlen))
        return -1;
    const json_t *arr = json_object_get(doc, "strategies");
    const json_t *pf = json_object_get(doc, "portfolio");
    const json_t *run = json_object_get(doc, "run");
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>qmtl backtest report</title>\n<style>%s</style></head>\n<body>\n",
            STYLE);
    fputs("<pre id=\"qmtl-errors\" hidden></pre>\n<script>window.onerror=function(m,s,l){"
          "var e=document.getElementById('qmtl-errors');e.hidden=false;"
          "e.textContent+='error: '+m+' (line '+l+')\\n';};</script>\n",
          out);
    fprintf(out, "<h1>qmtl backtest report</h1>\n<p>%zu strateg%s", json_array_size(arr),
            json_array_size(arr) == 1 ? "y" : "ies");
    if (json_is_object(run))
        fprintf(out, "; %.0f events replayed; %.0f nodes, %.0f shared; %.0f node computations",
                num(run, "events"), num(run, "nodes"), num(run, "shared_nodes"),
                num(run, "node_computations"));
    fputs(".</p>\n<nav><a href=\"#comparison\">comparison</a>", out);
    if (pf)
        fputs(" &middot; <a href=\"#portfolio\">portfolio</a>", out);
    fputs("</nav>\n", out);
    comparison(out, arr, pf);
    if (report_sweeps(out, arr)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pf) {
        fputs("<section><h2 id=\"portfolio\">Portfolio (all strategies)</h2>\n", out);
        if (results_section(out, "portfolio", pf))
            goto oom;
        fputs("</section>\n", out);
    }
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        fprintf(out, "<section><h2 id=\"s%zu\">", i);
        html_escape(out, str(s, "name"));
        fputs("</h2>\n<p>status ", out);
        html_escape(out, str(s, "status"));
        fprintf(out, "; %.0f fills, %.0f round trips; plugin ", num(s, "fills"),
                num(s, "round_trips"));
        html_escape(out, str(s, "plugin"));
        fputs("</p>\n", out);
        char id[32];
        snprintf(id, sizeof(id), "s%zu", i);
        if (results_section(out, id, s))
            goto oom;
        trades_table(out, json_object_get(s, "trades"));
        fputs("</section>\n", out);
    }
    fprintf(out, "<script>\n%s</script>\n</body></html>\n", SCRIPT);
    if (ferror(out)) {
        snprintf(err, errlen, "write error");
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
