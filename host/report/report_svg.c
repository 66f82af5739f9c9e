/* report_svg: inline SVG charts (see report_svg.h). */
#include "host/report/report_svg.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#define W 900.0
#define H 260.0
#define ML 70.0 /* left margin: y labels */
#define MR 15.0
#define MT 24.0 /* top margin: legend */
#define MB 30.0 /* bottom margin: x labels */
#define BUCKETS 400

void html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void date_label(char *buf, size_t len, int64_t ts)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
        snprintf(buf, len, "%lld", (long long)ts);
}

static void y_label(char *buf, size_t len, double v, int pct)
{
    if (pct)
        snprintf(buf, len, "%.2f%%", 100 * v);
    else if (fabs(v) >= 1e6)
        snprintf(buf, len, "%.4g", v);
    else
        snprintf(buf, len, "%.2f", v);
}

/* Indices to draw: all when short, else the min and max of series 0 per bucket. */
static size_t pick(const double *y, size_t n, size_t *idx)
{
    if (n <= 2 * BUCKETS) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    size_t k = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        size_t lo = b * n / BUCKETS, hi = (b + 1) * n / BUCKETS;
        size_t mn = lo, mx = lo;
        for (size_t i = lo; i < hi; i++) {
            if (y[i] < y[mn])
                mn = i;
            if (y[i] > y[mx])
                mx = i;
        }
        idx[k++] = mn < mx ? mn : mx;
        if (mn != mx)
            idx[k++] = mn < mx ? mx : mn;
    }
    if (idx[k - 1] != n - 1)
        idx[k++] = n - 1;
    return k;
}

void svg_line_chart(FILE *out, const char *id, const int64_t *ts, size_t n,
                    const struct svg_series *s, size_t n_series, int pct, int area)
{
    fprintf(out, "<svg class=\"chart\" data-chart=\"");
    html_escape(out, id);
    fprintf(out, "\" viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\" role=\"img\">\n", W,
            H);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, H);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < n_series; j++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[j].y[i])) {
                lo = fmin(lo, s[j].y[i]);
                hi = fmax(hi, s[j].y[i]);
            }
    if (n < 1 || !isfinite(lo)) {
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no data</text></svg>\n",
                W / 2, H / 2);
        return;
    }
    if (area)
        hi = fmax(hi, 0);
    if (hi - lo < 1e-12 * (1 + fabs(hi))) {
        hi += fabs(hi) * 0.01 + 1e-9;
        lo -= fabs(lo) * 0.01 + 1e-9;
    }
    int64_t t0 = ts[0], t1 = ts[n - 1] > ts[0] ? ts[n - 1] : ts[0] + 1;
#define X(t) (ML + (W - ML - MR) * (double)((t) - t0) / (double)(t1 - t0))
#define Y(v) (MT + (H - MT - MB) * (hi - (v)) / (hi - lo))
    char buf[64];
    for (int g = 0; g <= 4; g++) { /* grid and y labels */
        double v = lo + (hi - lo) * g / 4.0;
        y_label(buf, sizeof(buf), v, pct);
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
                "fill=\"#555\">%s</text>\n",
                ML, W - MR, Y(v), Y(v), ML - 4, Y(v) + 4, buf);
    }
    date_label(buf, sizeof(buf), t0);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">%s</text>\n", ML,
            H - 10, buf);
    date_label(buf, sizeof(buf), ts[n - 1]);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
            "fill=\"#555\">%s</text>\n",
            W - MR, H - 10, buf);
    size_t *idx = malloc((2 * BUCKETS + 2 > n ? 2 * BUCKETS + 2 : n) * sizeof(*idx));
    if (!idx) {
        fputs("</svg>\n", out);
        return;
    }
    size_t k = pick(s[0].y, n, idx);
    for (size_t j = 0; j < n_series; j++) {
        if (area && j == 0) {
            fprintf(out, "<path fill=\"%s\" fill-opacity=\"0.35\" stroke=\"none\" d=\"M%.1f %.1f",
                    s[j].color, X(ts[idx[0]]), Y(0.0));
            for (size_t i = 0; i < k; i++)
                if (isfinite(s[j].y[idx[i]]))
                    fprintf(out, " L%.1f %.1f", X(ts[idx[i]]), Y(s[j].y[idx[i]]));
            fprintf(out, " L%.1f %.1f Z\"/>\n", X(ts[idx[k - 1]]), Y(0.0));
        }
        fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"", s[j].color);
        int pen = 0;
        for (size_t i = 0; i < k; i++) {
            double v = s[j].y[idx[i]];
            if (!isfinite(v)) {
                pen = 0;
                continue;
            }
            fprintf(out, "%s%.1f %.1f", pen ? " L" : "M", X(ts[idx[i]]), Y(v));
            pen = 1;
        }
        fputs("\"/>\n", out);
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                ML + 20 + 160.0 * (double)j, MT - 11, s[j].color, ML + 34 + 160.0 * (double)j,
                MT - 2);
        html_escape(out, s[j].label);
        fputs("</text>\n", out);
    }
#undef X
#undef Y
    free(idx);
    fputs("</svg>\n", out);
}

void svg_heatmap(FILE *out, const char *id, const char *const *row_labels, size_t rows,
                 const char *const *col_labels, size_t cols, const double *v,
                 const char *row_title, const char *col_title)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < rows * cols; i++)
        if (isfinite(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    double cw = 70, ch = 28, left = 110, top = 40;
    double w = left + cw * (double)cols + 10, h = top + ch * (double)rows + 10;
    fprintf(out, "<svg class=\"chart heat\" data-chart=\"");
    html_escape(out, id);
    fprintf(out, "\" viewBox=\"0 0 %.0f %.0f\" style=\"max-width:%.0fpx\" role=\"img\">\n", w, h, w);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
    fprintf(out, "<text x=\"%.0f\" y=\"14\" font-size=\"12\" font-weight=\"bold\">", left);
    html_escape(out, col_title);
    fprintf(out, " &#8594;</text><text x=\"4\" y=\"%.0f\" font-size=\"12\" font-weight=\"bold\">",
            top - 6);
    html_escape(out, row_title);
    fputs(" &#8595;</text>\n", out);
    for (size_t c = 0; c < cols; c++) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">",
                left + cw * ((double)c + 0.5), top - 6);
        html_escape(out, col_labels[c]);
        fputs("</text>\n", out);
    }
    for (size_t r = 0; r < rows; r++) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
                left - 6, top + ch * ((double)r + 0.65));
        html_escape(out, row_labels[r]);
        fputs("</text>\n", out);
        for (size_t c = 0; c < cols; c++) {
            double x = v[r * cols + c];
            double f = isfinite(x) && hi > lo ? (x - lo) / (hi - lo) : 0.5;
            int red = (int)(f < 0.5 ? 220 : 220 - (f - 0.5) * 2 * 170);
            int green = (int)(f < 0.5 ? 60 + f * 2 * 160 : 200);
            char fill[32];
            if (isfinite(x))
                snprintf(fill, sizeof(fill), "rgb(%d,%d,90)", red, green);
            else
                snprintf(fill, sizeof(fill), "#ddd");
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\" "
                    "stroke=\"#fff\"/>",
                    left + cw * (double)c, top + ch * (double)r, cw, ch, fill);
            if (isfinite(x))
                fprintf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">"
                        "%.3f</text>",
                        left + cw * ((double)c + 0.5), top + ch * ((double)r + 0.65), x);
            fputc('\n', out);
        }
    }
    fputs("</svg>\n", out);
}
