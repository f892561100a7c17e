/* test_track_report.c - report.html state and page (track/report.h, track/plot.h) without a
 * browser: history thinning keeps <= TF_REPORT_MAX_POINTS evenly strided points and the
 * newest one; key, image and param caps; the page is self-contained (no http(s) URL, script,
 * link or CSS url(); every src is a data: PNG) and its latest <img> decodes (base64) to the
 * exact PNG bytes given; NaN breaks a line in two; "(log scale)" only on loss keys when asked;
 * text is HTML-escaped; nice ticks; atomic write. The rendering itself is checked in a real
 * browser by tests/track/report_render.sh.
 * Knows nothing about the other tracking sinks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "track/plot.h"
#include "track/report.h"
#include "track/track_test_util.h"

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode base64 from s up to the first '"'; returns the byte count (out must be big enough). */
static size_t b64decode(const char *s, unsigned char *out) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '"' && *s != '='; s++) {
        int v = b64val(*s);
        if (v < 0) return (size_t)-1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static void test_thinning(void) {
    TfReport *r = tf_report_new("t", 1);
    for (int i = 0; i < 10000; i++) tf_report_scalar(r, "loss", i, 1.0 / (i + 1));
    int n = tf_report_points(r, "loss");
    CHECK_MSG(n >= TF_REPORT_MAX_POINTS / 2 && n <= TF_REPORT_MAX_POINTS, "%d points held", n);
    CHECK(tf_report_points(r, "nope") == -1);
    TfStrBuf b = {0};
    tf_report_render(r, &b);
    /* One polyline for loss; its last point is the newest step (x at the right edge). */
    CHECK(count(b.s, "<polyline fill=\"none\" stroke=\"#1f77b4\"") == 1);
    char want_end[64];
    snprintf(want_end, sizeof want_end, " %.1f,", (double)(TF_PLOT_WIDTH - 16));
    const char *pl = strstr(b.s, "stroke=\"#1f77b4\"");
    const char *end = pl ? strstr(pl, "\"/>") : NULL;
    const char *lastsp = NULL;
    for (const char *q = pl; q && q < end; q++)
        if (*q == ' ') lastsp = q;
    CHECK_MSG(lastsp && !strncmp(lastsp, want_end, strlen(want_end)), "line does not end at the newest step");
    CHECK(strstr(b.s, "(log scale)") != NULL);
    tf_sb_free(&b);
    tf_report_free(r);
}

static void test_caps_and_page(void) {
    TfReport *r = tf_report_new("run <1> & co", 1);
    for (int k = 0; k < TF_REPORT_MAX_SERIES + 3; k++) {
        char key[32];
        snprintf(key, sizeof key, "k%02d", k);
        tf_report_scalar(r, key, 0, k);
        tf_report_scalar(r, key, 1, k + 1);
    }
    CHECK(tf_report_points(r, "k63") == 2 && tf_report_points(r, "k64") == -1);
    tf_report_param(r, "note", "<b>&'\"");
    tf_report_param(r, "note", "<i>"); /* replaced */
    unsigned char png[10][64];
    for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 64; j++) png[i][j] = (unsigned char)(i * 31 + j * 7);
        tf_report_image(r, "samples", 1000 + i, png[i], 40 + (size_t)i, 4, 4);
    }
    TfStrBuf b = {0};
    tf_report_render(r, &b);
    const char *s = b.s;
    CHECK(!strstr(s, "http:") && !strstr(s, "https:") && !strstr(s, "<script") && !strstr(s, "<link") &&
          !strstr(s, "url(") && !strstr(s, "<iframe"));
    CHECK(count(s, "src=\"") == TF_REPORT_MAX_IMAGES && count(s, "src=\"data:image/png;base64,") == TF_REPORT_MAX_IMAGES);
    CHECK(count(s, "<svg") == TF_REPORT_MAX_SERIES);
    CHECK(strstr(s, "6 points of keys past the first 64 not kept") != NULL);
    CHECK(strstr(s, "&lt;i&gt;") && !strstr(s, "<i>") && !strstr(s, "&lt;b&gt;"));
    CHECK(strstr(s, "run &lt;1&gt; &amp; co") != NULL);
    CHECK(!strstr(s, "step 1000<") && !strstr(s, "step 1001<") && strstr(s, "step 1002<") && strstr(s, "step 1009<"));
    CHECK(strstr(s, "(log scale)") == NULL); /* no loss key here */
    const char *latest = strstr(s, "id=\"latest\"");
    const char *src = latest ? strstr(latest, "base64,") : NULL;
    unsigned char dec[128];
    size_t n = src ? b64decode(src + 7, dec) : 0;
    CHECK(n == 49 && !memcmp(dec, png[9], 49));
    tf_sb_free(&b);
    tf_report_free(r);
}

static void test_plot(void) {
    TfStrBuf b = {0};
    int64_t steps[6] = {0, 1, 2, 3, 4, 5};
    double v[6] = {1, 2, NAN, 3, 4, 5};
    tf_plot_svg(&b, "grad_norm", steps, v, 6, 0, "#123456");
    CHECK(count(b.s, "<polyline fill=\"none\" stroke=\"#123456\"") == 2);
    b.len = 0;
    double lv[4] = {1, -1, 0.1, 0.01}; /* -1 cannot go on a log axis: a dot, then a line */
    tf_plot_svg(&b, "loss", steps, lv, 4, 1, "#123456");
    CHECK(count(b.s, "<circle") == 1 && count(b.s, "stroke=\"#123456\"") == 1 && strstr(b.s, "(log scale)"));
    b.len = 0;
    tf_plot_svg(&b, "empty", steps, v, 0, 0, "#123456");
    CHECK(strstr(b.s, "no finite values") && !strstr(b.s, "#123456"));
    tf_sb_free(&b);
    double t[8];
    int n = tf_plot_ticks(0, 1, t, 6);
    CHECK(n == 6 && t[0] == 0 && fabs(t[5] - 1.0) < 1e-12 && fabs(t[1] - 0.2) < 1e-12);
    n = tf_plot_ticks(3, 97, t, 6);
    CHECK(n == 4 && t[0] == 20 && t[3] == 80);
    n = tf_plot_ticks(-0.5, 0.5, t, 6);
    CHECK(n == 5 && t[0] == -0.4 && t[2] == 0);
    CHECK(tf_plot_ticks(2, 2, t, 6) == 1 && t[0] == 2);
}

static void test_write(void) {
    char dir[256], path[300];
    tt_tempdir(dir, sizeof dir, "report");
    snprintf(path, sizeof path, "%s/report.html", dir);
    TfReport *r = tf_report_new("w", 0);
    tf_report_scalar(r, "loss", 0, 1);
    tf_report_write(r, path);
    tf_report_scalar(r, "loss", 1, 0.5);
    tf_report_write(r, path);
    char *s = tt_slurp(path, NULL);
    CHECK(s && !strncmp(s, "<!DOCTYPE html>", 15) && strstr(s, "</html>\n"));
    CHECK(tt_count_entries(dir, NULL) == 1);
    free(s);
    tf_report_free(r);
    tt_rmtree(dir);
}

int main(void) {
    test_thinning();
    test_caps_and_page();
    test_plot();
    test_write();
    return tf_test_finish("test_track_report");
}
