/* report.c - the bounded report state and the self-contained report.html page (report.h).
 * This file must not know about models, MPI, training or the other tracking sinks. */
#include "track/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "track/plot.h"

typedef struct {
    char *key;
    int64_t *steps;
    double *values;
    int n;        /* points held */
    int stride;   /* keep one of every `stride` incoming points */
    int64_t seen; /* points offered so far */
    int64_t last_step;
    double last_value;
} Series;

typedef struct {
    char *tag;
    int64_t step;
    unsigned char *png;
    size_t size;
    int width, height;
} Grid;

struct TfReport {
    char *title;
    int log_loss;
    Series series[TF_REPORT_MAX_SERIES];
    int nseries, dropped_keys; /* dropped_keys: points offered for keys past the cap */
    char *pkeys[TF_REPORT_MAX_PARAMS], *pvals[TF_REPORT_MAX_PARAMS];
    int nparams, dropped_params;
    Grid grids[TF_REPORT_MAX_IMAGES]; /* ring: the newest is at (head - 1) mod cap */
    int ngrids, head;
    int64_t images_seen, images_skipped;
};

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = tf_malloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

TfReport *tf_report_new(const char *title, int log_loss) {
    TfReport *r = tf_calloc(1, sizeof *r);
    r->title = dup_str(title ? title : "tinyflow run");
    r->log_loss = log_loss;
    return r;
}

void tf_report_param(TfReport *r, const char *key, const char *value) {
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->pkeys[i], key) == 0) {
            free(r->pvals[i]);
            r->pvals[i] = dup_str(value);
            return;
        }
    if (r->nparams == TF_REPORT_MAX_PARAMS) {
        r->dropped_params++;
        return;
    }
    r->pkeys[r->nparams] = dup_str(key);
    r->pvals[r->nparams] = dup_str(value);
    r->nparams++;
}

static Series *find_series(const TfReport *r, const char *key) {
    for (int i = 0; i < r->nseries; i++)
        if (strcmp(r->series[i].key, key) == 0) return (Series *)&r->series[i];
    return NULL;
}

int tf_report_points(const TfReport *r, const char *key) {
    const Series *s = find_series(r, key);
    return s ? s->n : -1;
}

void tf_report_scalar(TfReport *r, const char *key, int64_t step, double value) {
    Series *s = find_series(r, key);
    if (!s) {
        if (r->nseries == TF_REPORT_MAX_SERIES) {
            r->dropped_keys++;
            return;
        }
        s = &r->series[r->nseries++];
        s->key = dup_str(key);
        s->steps = tf_malloc(sizeof(int64_t) * TF_REPORT_MAX_POINTS);
        s->values = tf_malloc(sizeof(double) * TF_REPORT_MAX_POINTS);
        s->stride = 1;
    }
    s->last_step = step;
    s->last_value = value;
    if (s->seen++ % s->stride != 0) return;
    if (s->n == TF_REPORT_MAX_POINTS) { /* thin: keep every other point, sample half as often */
        int k = 0;
        for (int i = 0; i < s->n; i += 2, k++) {
            s->steps[k] = s->steps[i];
            s->values[k] = s->values[i];
        }
        s->n = k;
        s->stride *= 2;
        if ((s->seen - 1) % s->stride != 0) return;
    }
    s->steps[s->n] = step;
    s->values[s->n] = value;
    s->n++;
}

void tf_report_image(TfReport *r, const char *tag, int64_t step, const unsigned char *png, size_t size,
                     int width, int height) {
    r->images_seen++;
    if (size > TF_REPORT_MAX_IMAGE_BYTES) {
        r->images_skipped++;
        return;
    }
    Grid *g = &r->grids[r->head];
    if (r->ngrids == TF_REPORT_MAX_IMAGES) {
        free(g->tag);
        free(g->png);
    } else {
        r->ngrids++;
    }
    g->tag = dup_str(tag);
    g->step = step;
    g->png = tf_malloc(size);
    memcpy(g->png, png, size);
    g->size = size;
    g->width = width;
    g->height = height;
    r->head = (r->head + 1) % TF_REPORT_MAX_IMAGES;
}

static int is_loss_key(const char *key) { return strstr(key, "loss") != NULL; }

static void fmt_value(TfStrBuf *b, double v) {
    if (isnan(v)) tf_sb_puts(b, "NaN");
    else if (isinf(v)) tf_sb_puts(b, v > 0 ? "+inf" : "-inf");
    else tf_sb_printf(b, "%.6g", v);
}

/* An <img> at an integer zoom so its pixels stay exact, at most max_w CSS pixels wide. */
static void img_tag(TfStrBuf *b, const Grid *g, int max_w, const char *id) {
    int zoom = g->width > 0 ? max_w / g->width : 1;
    if (zoom < 1) zoom = 1;
    if (zoom > 8) zoom = 8;
    tf_sb_printf(b, "<img id=\"%s\" alt=\"", id);
    tf_sb_html(b, g->tag);
    tf_sb_printf(b, " step %lld\" width=\"%d\" height=\"%d\" src=\"data:image/png;base64,", (long long)g->step,
                 g->width * zoom, g->height * zoom);
    tf_sb_base64(b, g->png, g->size);
    tf_sb_puts(b, "\">");
}

static const Grid *grid_at(const TfReport *r, int age) { /* age 0 = newest */
    int idx = ((r->head - 1 - age) % TF_REPORT_MAX_IMAGES + TF_REPORT_MAX_IMAGES) % TF_REPORT_MAX_IMAGES;
    return &r->grids[idx];
}

static void summary_table(const TfReport *r, TfStrBuf *b) {
    tf_sb_puts(b, "<table><tr><th colspan=\"2\">latest values</th></tr>");
    for (int i = 0; i < r->nseries; i++) {
        const Series *s = &r->series[i];
        tf_sb_puts(b, "<tr><td>");
        tf_sb_html(b, s->key);
        tf_sb_puts(b, "</td><td>");
        fmt_value(b, s->last_value);
        tf_sb_printf(b, " <span class=\"dim\">@ step %lld</span></td></tr>", (long long)s->last_step);
    }
    if (r->dropped_keys)
        tf_sb_printf(b, "<tr><td colspan=\"2\">%d points of keys past the first %d not kept</td></tr>", r->dropped_keys,
                     TF_REPORT_MAX_SERIES);
    tf_sb_puts(b, "<tr><th colspan=\"2\">params</th></tr>");
    for (int i = 0; i < r->nparams; i++) {
        tf_sb_puts(b, "<tr><td>");
        tf_sb_html(b, r->pkeys[i]);
        tf_sb_puts(b, "</td><td>");
        tf_sb_html(b, r->pvals[i]);
        tf_sb_puts(b, "</td></tr>");
    }
    if (r->dropped_params) tf_sb_printf(b, "<tr><td colspan=\"2\">%d more params not shown</td></tr>", r->dropped_params);
    tf_sb_puts(b, "</table>");
}

void tf_report_render(const TfReport *r, TfStrBuf *b) {
    static const char *const colours[] = TF_REPORT_COLOURS;
    const int ncol = (int)(sizeof colours / sizeof colours[0]);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (localtime_r(&now, &tmv)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tmv);

    tf_sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    tf_sb_html(b, r->title);
    tf_sb_puts(b, "</title>\n<style>"
                  "body{font-family:sans-serif;margin:12px;color:#222;background:#fafafa}"
                  "h1{font-size:20px;margin:0 0 4px 0}.dim{color:#777;font-size:12px}"
                  ".row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
                  ".plots{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}"
                  ".plots svg{border:1px solid #ddd}"
                  "img{image-rendering:pixelated;border:1px solid #ccc;background:#000}"
                  "table{border-collapse:collapse;font-size:12px;background:#fff}"
                  "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;max-width:420px;"
                  "overflow-wrap:anywhere}th{background:#eee}"
                  "figure{margin:0}figcaption{font-size:12px;color:#555}"
                  "</style></head>\n<body>\n<h1>");
    tf_sb_html(b, r->title);
    tf_sb_puts(b, "</h1><div class=\"dim\">updated ");
    tf_sb_html(b, when);
    tf_sb_puts(b, "</div>\n<div class=\"row\">");
    if (r->ngrids > 0) {
        const Grid *g = grid_at(r, 0);
        tf_sb_puts(b, "<figure>");
        img_tag(b, g, 512, "latest");
        tf_sb_puts(b, "<figcaption>latest: ");
        tf_sb_html(b, g->tag);
        tf_sb_printf(b, ", step %lld</figcaption></figure>", (long long)g->step);
    }
    summary_table(r, b);
    tf_sb_puts(b, "</div>\n<div class=\"plots\">");
    for (int i = 0; i < r->nseries; i++) {
        const Series *s = &r->series[i];
        /* The newest point always ends the line, even when thinning skipped it. */
        int n = s->n;
        int extra = n == 0 || s->steps[n - 1] != s->last_step;
        int64_t *st = tf_malloc(sizeof(int64_t) * (size_t)(n + 1));
        double *va = tf_malloc(sizeof(double) * (size_t)(n + 1));
        memcpy(st, s->steps, sizeof(int64_t) * (size_t)n);
        memcpy(va, s->values, sizeof(double) * (size_t)n);
        if (extra) st[n] = s->last_step, va[n] = s->last_value;
        tf_plot_svg(b, s->key, st, va, n + extra, r->log_loss && is_loss_key(s->key), colours[i % ncol]);
        free(st);
        free(va);
    }
    if (r->nseries == 0) tf_sb_puts(b, "<p class=\"dim\">no scalars logged yet</p>");
    tf_sb_puts(b, "</div>\n");
    if (r->ngrids > 1) {
        tf_sb_puts(b, "<h2 style=\"font-size:16px\">earlier samples</h2><div class=\"row\">");
        for (int age = 1; age < r->ngrids; age++) {
            const Grid *g = grid_at(r, age);
            char id[32];
            snprintf(id, sizeof id, "past%d", age);
            tf_sb_puts(b, "<figure>");
            img_tag(b, g, 256, id);
            tf_sb_puts(b, "<figcaption>");
            tf_sb_html(b, g->tag);
            tf_sb_printf(b, ", step %lld</figcaption></figure>", (long long)g->step);
        }
        tf_sb_puts(b, "</div>\n");
    }
    if (r->images_skipped)
        tf_sb_printf(b, "<p class=\"dim\">%lld image grids over %u bytes were not embedded</p>",
                     (long long)r->images_skipped, TF_REPORT_MAX_IMAGE_BYTES);
    tf_sb_puts(b, "</body></html>\n");
}

void tf_report_write(const TfReport *r, const char *path) {
    TfStrBuf b = {0};
    tf_report_render(r, &b);
    tf_track_write_atomic(path, b.s, b.len);
    tf_sb_free(&b);
}

void tf_report_free(TfReport *r) {
    if (!r) return;
    for (int i = 0; i < r->nseries; i++) {
        free(r->series[i].key);
        free(r->series[i].steps);
        free(r->series[i].values);
    }
    for (int i = 0; i < r->nparams; i++) {
        free(r->pkeys[i]);
        free(r->pvals[i]);
    }
    for (int i = 0; i < r->ngrids; i++) {
        free(r->grids[i].tag);
        free(r->grids[i].png);
    }
    free(r->title);
    free(r);
}
