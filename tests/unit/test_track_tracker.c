/* test_track_tracker.c - the façade (track/tracker.h) end to end in a temp run directory:
 * metrics.jsonl has one parseable line per call with the logged values (non-finite -> null);
 * samples/step_XXXXXXX.png decodes to the logged images; the same bytes are the MLflow
 * artifact samples/...; MLflow gets params, one metric line per scalar and FINISHED at close;
 * the event file holds file_version + one record per scalar call + one per image, all with
 * valid CRCs; report.html exists with every grid; disabled sinks write nothing; bad keys,
 * negative steps and too many scalars exit 2. The Python checkers in tests/track/ validate
 * the same kind of tree against the formats' rules.
 * Knows nothing about models, MPI or training. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "track/png.h"
#include "track/tfevents.h"
#include "track/track_test_util.h"
#include "track/tracker.h"
#include "track/yaml_min.h"

static char g_dir[256];

static float q(int byte) { return (float)byte / 127.5f - 1.0f; }

/* Number of well-framed records with valid CRCs; -1 on the first bad one. */
static int count_records(const char *path) {
    size_t size = 0;
    unsigned char *d = (unsigned char *)tt_slurp(path, &size);
    if (!d) return -1;
    size_t pos = 0;
    int n = 0;
    while (pos < size) {
        if (size - pos < 16) return free(d), -1;
        uint64_t len = 0;
        for (int i = 7; i >= 0; i--) len = len << 8 | d[pos + i];
        uint32_t lc = (uint32_t)d[pos + 8] | (uint32_t)d[pos + 9] << 8 | (uint32_t)d[pos + 10] << 16 |
                      (uint32_t)d[pos + 11] << 24;
        if (lc != tf_crc32c_mask(tf_crc32c(d + pos, 8)) || size - pos - 16 < len) return free(d), -1;
        const unsigned char *t = d + pos + 12 + len;
        uint32_t dc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
        if (dc != tf_crc32c_mask(tf_crc32c(d + pos + 12, (size_t)len))) return free(d), -1;
        pos += 16 + (size_t)len;
        n++;
    }
    free(d);
    return n;
}

static double json_value(const char *line, const char *key, int *is_null) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    *is_null = 0;
    if (!p) return NAN;
    p += strlen(pat);
    if (!strncmp(p, "null", 4)) return *is_null = 1, NAN;
    return strtod(p, NULL);
}

static void test_full(void) {
    char run[512];
    snprintf(run, sizeof run, "%s/run-a", g_dir);
    TfTrackerOptions o = tf_tracker_defaults();
    o.run_dir = run;
    o.experiment = "unit";
    TfTracker *t = tf_tracker_open(&o);
    const char *pk[2] = {"lr", "data/name"}, *pv[2] = {"0.001", "mnist"};
    tf_tracker_log_params(t, pk, pv, 2);
    const char *keys[3] = {"loss", "lr", "eval/fid"};
    for (int s = 0; s < 20; s++) {
        double v[3] = {s == 3 ? NAN : 1.0 / (s + 1), 1e-3 * s, 50.0 - s};
        tf_tracker_log_scalars(t, s, keys, v, s % 5 == 4 ? 3 : 2);
    }
    enum { N = 4, C = 3, H = 5, W = 6 };
    float img[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++) img[i] = q((i * 29 + 3) % 256);
    tf_tracker_log_image(t, 5, NULL, img, N, C, H, W, 2, 2);
    tf_tracker_log_image(t, 10, "eval/samples", img, 3, C, H, W, 0, 0);
    char art[600];
    snprintf(art, sizeof art, "%s/config.yaml", g_dir);
    CHECK(tt_write(art, "seed: 1\n", 8) == 0);
    tf_tracker_log_artifact(t, art);
    tf_tracker_write_report(t);
    char mrun[4096], events[4096];
    snprintf(mrun, sizeof mrun, "%s", tf_tracker_mlflow_run_dir(t));
    snprintf(events, sizeof events, "%s", tf_tracker_events_path(t));
    CHECK(strncmp(events, run, strlen(run)) == 0 && strstr(events, "/tb/events.out.tfevents."));
    CHECK(strstr(mrun, "/run-a/mlruns/") != NULL);
    tf_tracker_close(t, TF_RUN_FINISHED);

    /* metrics.jsonl */
    char p[4608];
    snprintf(p, sizeof p, "%s/metrics.jsonl", run);
    char *jl = tt_slurp(p, NULL);
    CHECK(jl != NULL);
    int lines = 0;
    for (char *line = jl; line && *line; lines++) {
        char *nl = strchr(line, '\n');
        CHECK(nl && nl > line && nl[-1] == '}');
        if (!nl) break;
        *nl = '\0'; /* one line at a time */
        long long step;
        double tm;
        CHECK(sscanf(line, "{\"step\":%lld,\"time\":%lf", &step, &tm) == 2 && step == lines && tm > 1.6e9);
        int isnull;
        double loss = json_value(line, "loss", &isnull);
        if (lines == 3) CHECK(isnull);
        else CHECK(loss == 1.0 / (lines + 1));
        CHECK(json_value(line, "lr", &isnull) == 1e-3 * lines);
        double fid = json_value(line, "eval/fid", &isnull);
        CHECK(lines % 5 == 4 ? fid == 50.0 - lines : isnan(fid));
        line = nl + 1;
    }
    CHECK(lines == 20);
    free(jl);

    /* samples and their MLflow copies */
    snprintf(p, sizeof p, "%s/samples/step_0000005.png", run);
    TfPngImage im;
    char err[512];
    CHECK_MSG(tf_png_read(p, &im, err, sizeof err) == 0, "%s", err);
    CHECK(im.channels == 3 && im.width == 2 * W + 3 * TF_TRACKER_GRID_PAD);
    int bad = 0;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int gy = TF_TRACKER_GRID_PAD + (i / 2) * (H + TF_TRACKER_GRID_PAD) + y;
                    int gx = TF_TRACKER_GRID_PAD + (i % 2) * (W + TF_TRACKER_GRID_PAD) + x;
                    bad += im.pixels[((size_t)c * im.height + gy) * im.width + gx] != img[((i * C + c) * H + y) * W + x];
                }
    CHECK_MSG(bad == 0, "%d grid pixels differ", bad);
    tf_png_image_free(&im);
    size_t n1 = 0, n2 = 0;
    char *a = tt_slurp(p, &n1);
    snprintf(p, sizeof p, "%s/artifacts/samples/step_0000005.png", mrun);
    char *b = tt_slurp(p, &n2);
    CHECK(a && b && n1 == n2 && !memcmp(a, b, n1));
    free(a);
    free(b);
    snprintf(p, sizeof p, "%s/samples/eval_samples_step_0000010.png", run);
    CHECK(tf_track_exists(p));
    snprintf(p, sizeof p, "%s/artifacts/config.yaml", mrun);
    CHECK(tf_track_exists(p));

    /* MLflow params, metrics, status */
    snprintf(p, sizeof p, "%s/params/data/name", mrun);
    char *v = tt_slurp(p, NULL);
    CHECK(v && !strcmp(v, "mnist"));
    free(v);
    snprintf(p, sizeof p, "%s/metrics/eval/fid", mrun);
    v = tt_slurp(p, NULL);
    int fl = 0;
    for (char *c = v; c && *c; c++) fl += *c == '\n';
    CHECK(fl == 4);
    free(v);
    snprintf(p, sizeof p, "%s/meta.yaml", mrun);
    v = tt_slurp(p, NULL);
    char st[32], rn[64];
    CHECK(v && tf_yaml_get(v, "status", st, sizeof st) == 0 && !strcmp(st, "3"));
    CHECK(v && tf_yaml_get(v, "run_name", rn, sizeof rn) == 0 && !strcmp(rn, "run-a"));
    free(v);

    /* TensorBoard: file_version + 20 scalar events + 2 images */
    CHECK(count_records(events) == 23);
    snprintf(p, sizeof p, "%s/report.html", run);
    v = tt_slurp(p, NULL);
    int imgs = 0;
    for (char *c = v; c && (c = strstr(c, "<img")) != NULL; c++) imgs++;
    CHECK(v && imgs == 2);
    free(v);
    CHECK(tt_count_entries(run, ".tmp.") == 0);
}

static void test_disabled(void) {
    char run[512], p[700];
    snprintf(run, sizeof run, "%s/run-b", g_dir);
    TfTrackerOptions o = tf_tracker_defaults();
    o.run_dir = run;
    o.enable_mlflow = o.enable_tensorboard = o.enable_report = 0;
    TfTracker *t = tf_tracker_open(&o);
    const char *k[1] = {"loss"};
    double v[1] = {1};
    tf_tracker_log_scalars(t, 0, k, v, 1);
    tf_tracker_write_report(t);
    CHECK(tf_tracker_mlflow_run_dir(t) == NULL && tf_tracker_events_path(t) == NULL);
    tf_tracker_close(t, TF_RUN_KILLED);
    CHECK(tt_count_entries(run, NULL) == 1);
    snprintf(p, sizeof p, "%s/metrics.jsonl", run);
    CHECK(tf_track_exists(p));
}

static TfTracker *g_t;
static void bad_key(void *arg) {
    const char *k[1] = {arg};
    double v[1] = {0};
    tf_tracker_log_scalars(g_t, 0, k, v, 1);
}
static void bad_step(void *arg) {
    (void)arg;
    const char *k[1] = {"loss"};
    double v[1] = {0};
    tf_tracker_log_scalars(g_t, -1, k, v, 1);
}
static void too_many(void *arg) {
    (void)arg;
    const char *k[300];
    double v[300];
    for (int i = 0; i < 300; i++) k[i] = "loss", v[i] = 0;
    tf_tracker_log_scalars(g_t, 0, k, v, 300);
}

static void test_errors(void) {
    char run[512];
    snprintf(run, sizeof run, "%s/run-c", g_dir);
    TfTrackerOptions o = tf_tracker_defaults();
    o.run_dir = run;
    o.enable_mlflow = 0;
    g_t = tf_tracker_open(&o);
    CHECK(tt_dies(bad_key, "../up", 2, "'..'"));
    CHECK(tt_dies(bad_key, "/abs", 2, "/abs"));
    CHECK(tt_dies(bad_key, "a\"b", 2, "character"));
    CHECK(tt_dies(bad_step, NULL, 2, "negative step"));
    CHECK(tt_dies(too_many, NULL, 2, "300 scalars"));
    tf_tracker_close(g_t, TF_RUN_FINISHED);
}

int main(void) {
    tt_tempdir(g_dir, sizeof g_dir, "tracker");
    test_full();
    test_disabled();
    test_errors();
    tt_rmtree(g_dir);
    return tf_test_finish("test_track_tracker");
}
