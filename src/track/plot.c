/* plot.c - inline SVG line plots for report.html (plot.h).
 * This file must not know about models, MPI, training or the other tracking sinks. */
#include "track/plot.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

enum { MARGIN_L = 64, MARGIN_R = 16, MARGIN_T = 26, MARGIN_B = 36 };

int tf_plot_ticks(double lo, double hi, double *ticks, int max) {
    if (max < 1) return 0;
    double span = hi - lo;
    if (!isfinite(span) || span <= 0 || max < 2) {
        ticks[0] = lo;
        return 1;
    }
    double raw = span / (max - 1);
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm <= 1.0 ? 1.0 : norm <= 2.0 ? 2.0 : norm <= 5.0 ? 5.0 : 10.0) * mag;
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); n < max; k += 1.0) {
        double t = k * step;
        if (t > hi + step * 1e-9) break;
        ticks[n++] = fabs(t) < step * 1e-9 ? 0.0 : t;
    }
    return n;
}

/* Tick label; sci = 1 puts the whole axis in scientific notation (chosen from its largest tick). */
static void label(TfStrBuf *b, double v, int sci) {
    if (sci && v != 0) tf_sb_printf(b, "%.2e", v);
    else tf_sb_printf(b, "%.4g", v);
}

typedef struct {
    double xlo, xhi, ylo, yhi;
} Box;

static double px(const Box *r, double x) {
    return MARGIN_L + (x - r->xlo) / (r->xhi - r->xlo) * (TF_PLOT_WIDTH - MARGIN_L - MARGIN_R);
}
static double py(const Box *r, double y) {
    return MARGIN_T + (1.0 - (y - r->ylo) / (r->yhi - r->ylo)) * (TF_PLOT_HEIGHT - MARGIN_T - MARGIN_B);
}

/* The plotted y of a value, or NAN when it cannot be drawn. */
static double ymap(double v, int log_y) {
    if (!isfinite(v)) return NAN;
    if (log_y) return v > 0 ? log10(v) : NAN;
    return v;
}

static void axes(TfStrBuf *b, const Box *r, int log_y) {
    double t[12] = {0};
    int x0 = MARGIN_L, x1 = TF_PLOT_WIDTH - MARGIN_R, y0 = MARGIN_T, y1 = TF_PLOT_HEIGHT - MARGIN_B;
    /* y ticks: decades on a log axis spanning >= 1 decade, else nice linear values. */
    int ny;
    if (log_y && r->yhi - r->ylo >= 1.0) {
        double lo = ceil(r->ylo), hi = floor(r->yhi);
        double stride = ceil((hi - lo + 1) / 6.0);
        if (stride < 1) stride = 1;
        ny = 0;
        for (double k = lo; k <= hi && ny < 12; k += stride) t[ny++] = k;
    } else if (log_y) {
        double lin[12] = {0};
        ny = tf_plot_ticks(pow(10.0, r->ylo), pow(10.0, r->yhi), lin, 6);
        for (int i = 0; i < ny; i++) t[i] = lin[i] > 0 ? log10(lin[i]) : r->ylo;
    } else {
        ny = tf_plot_ticks(r->ylo, r->yhi, t, 6);
    }
    double big = 0;
    for (int i = 0; i < ny; i++) {
        double v = fabs(log_y ? pow(10.0, t[i]) : t[i]);
        if (v > big) big = v;
    }
    int sci = !log_y && (big >= 1e5 || (big > 0 && big < 1e-3));
    for (int i = 0; i < ny; i++) {
        if (t[i] < r->ylo - 1e-12 || t[i] > r->yhi + 1e-12) continue;
        double y = py(r, t[i]);
        tf_sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", x0, y, x1, y);
        tf_sb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", x0 - 4, y + 4);
        label(b, log_y ? pow(10.0, t[i]) : t[i], sci || (log_y && (t[i] <= -4 || t[i] >= 5)));
        tf_sb_puts(b, "</text>");
    }
    int nx = tf_plot_ticks(r->xlo, r->xhi, t, 6);
    for (int i = 0; i < nx; i++) {
        if (t[i] < r->xlo || t[i] > r->xhi || t[i] != floor(t[i])) continue;
        double x = px(r, t[i]);
        tf_sb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>", x, y1, x, y1 + 4);
        tf_sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>", x, y1 + 16, t[i]);
    }
    tf_sb_printf(b, "<polyline points=\"%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"#555\"/>", x0, y0, x0, y1, x1,
                 y1);
    tf_sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">step</text>", x1, TF_PLOT_HEIGHT - 4);
}

void tf_plot_svg(TfStrBuf *b, const char *title, const int64_t *steps, const double *values, int n, int log_y,
                 const char *colour) {
    Box r = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    int valid = 0;
    for (int i = 0; i < n; i++) {
        double y = ymap(values[i], log_y);
        double x = (double)steps[i];
        if (x < r.xlo) r.xlo = x;
        if (x > r.xhi) r.xhi = x;
        if (isnan(y)) continue;
        valid++;
        if (y < r.ylo) r.ylo = y;
        if (y > r.yhi) r.yhi = y;
    }
    if (n == 0) r.xlo = 0, r.xhi = 1;
    if (r.xhi <= r.xlo) r.xlo -= 1, r.xhi += 1;
    if (!valid) r.ylo = 0, r.yhi = 1;
    if (r.yhi <= r.ylo) {
        double d = log_y ? 0.5 : (fabs(r.ylo) > 1e-12 ? 0.1 * fabs(r.ylo) : 1.0);
        r.ylo -= d, r.yhi += d;
    } else {
        double d = 0.05 * (r.yhi - r.ylo);
        r.ylo -= d, r.yhi += d;
    }
    tf_sb_printf(b, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                    "font-family=\"sans-serif\" font-size=\"11\" fill=\"#333\">",
                 TF_PLOT_WIDTH, TF_PLOT_HEIGHT, TF_PLOT_WIDTH, TF_PLOT_HEIGHT);
    tf_sb_printf(b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", TF_PLOT_WIDTH, TF_PLOT_HEIGHT);
    tf_sb_printf(b, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", MARGIN_L);
    tf_sb_html(b, title);
    if (log_y) tf_sb_puts(b, " (log scale)");
    tf_sb_puts(b, "</text>");
    axes(b, &r, log_y);
    if (!valid)
        tf_sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no finite values</text>",
                     (MARGIN_L + TF_PLOT_WIDTH - MARGIN_R) / 2, TF_PLOT_HEIGHT / 2);
    /* Runs of drawable points: a polyline each (a lone point is a dot). */
    for (int i = 0; i < n;) {
        if (isnan(ymap(values[i], log_y))) {
            i++;
            continue;
        }
        int j = i;
        while (j < n && !isnan(ymap(values[j], log_y))) j++;
        if (j - i == 1) {
            tf_sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px(&r, (double)steps[i]),
                         py(&r, ymap(values[i], log_y)), colour);
        } else {
            tf_sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" stroke-linejoin=\"round\" "
                            "points=\"",
                         colour);
            for (int k = i; k < j; k++)
                tf_sb_printf(b, "%s%.1f,%.1f", k > i ? " " : "", px(&r, (double)steps[k]),
                             py(&r, ymap(values[k], log_y)));
            tf_sb_puts(b, "\"/>");
        }
        i = j;
    }
    tf_sb_puts(b, "</svg>");
}
