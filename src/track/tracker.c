/* tracker.c - the tracking façade (tracker.h): validates names once, then fans out to
 * metrics.jsonl, the MLflow file store, the TensorBoard event file, PNG grids and report.html.
 * This file must not know about models, MPI, training or checkpoints. */
#include "track/tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "track/jsonl.h"
#include "track/png.h"
#include "track/report.h"
#include "track/tfevents.h"
#include "track/util.h"

#define PATH_CAP 4096

struct TfTracker {
    char run_dir[PATH_CAP];
    char jsonl_path[PATH_CAP];
    char report_path[PATH_CAP];
    int jsonl_on;
    TfMlflow *mlflow;
    TfEventWriter *events;
    TfReport *report;
};

TfTrackerOptions tf_tracker_defaults(void) {
    TfTrackerOptions o;
    memset(&o, 0, sizeof o);
    o.enable_jsonl = o.enable_mlflow = o.enable_tensorboard = o.enable_report = 1;
    o.report_log_loss = 1;
    return o;
}

static void need_key(const char *what, const char *key) {
    char err[512];
    if (!key) tf_die_usage("pass a name", "%s key is NULL", what);
    if (tf_mlflow_check_key(key, err, sizeof err) != 0)
        tf_die_usage("keys use letters, digits, _ - . space and '/' (relative, no '..', at most 250 chars)",
                     "invalid %s key: %s", what, err);
}

TfTracker *tf_tracker_open(const TfTrackerOptions *o) {
    if (!o || !o->run_dir || !*o->run_dir) tf_die_usage("set the run directory", "tracker: run_dir is not set");
    TfTracker *t = tf_calloc(1, sizeof *t);
    tf_track_path(t->run_dir, sizeof t->run_dir, "%s", o->run_dir);
    size_t n = strlen(t->run_dir);
    while (n > 1 && t->run_dir[n - 1] == '/') t->run_dir[--n] = '\0';
    tf_track_mkdirs(t->run_dir);
    const char *run_name = o->run_name && *o->run_name ? o->run_name : tf_track_basename(t->run_dir);
    if (!*run_name) run_name = "run";

    if (o->enable_jsonl) {
        t->jsonl_on = 1;
        tf_track_path(t->jsonl_path, sizeof t->jsonl_path, "%s/metrics.jsonl", t->run_dir);
    }
    if (o->enable_mlflow) {
        char root[PATH_CAP];
        if (o->mlflow_root && *o->mlflow_root) tf_track_path(root, sizeof root, "%s", o->mlflow_root);
        else tf_track_path(root, sizeof root, "%s/mlruns", t->run_dir);
        TfMlflowOptions mo = {root, o->experiment, run_name, o->user,
                              o->source_name ? o->source_name : "tinyflow", o->git_commit};
        t->mlflow = tf_mlflow_open(&mo);
    }
    if (o->enable_tensorboard) {
        char dir[PATH_CAP];
        tf_track_path(dir, sizeof dir, "%s/tb", t->run_dir);
        t->events = tf_events_open(dir, o->resume_step);
    }
    if (o->enable_report) {
        t->report = tf_report_new(run_name, o->report_log_loss);
        tf_track_path(t->report_path, sizeof t->report_path, "%s/report.html", t->run_dir);
    }
    return t;
}

void tf_tracker_log_params(TfTracker *t, const char *const *keys, const char *const *values, int n) {
    for (int i = 0; i < n; i++) {
        need_key("param", keys[i]);
        if (!values[i]) tf_die_usage("pass a value for every param", "param '%s' has a NULL value", keys[i]);
    }
    for (int i = 0; i < n; i++) {
        if (t->mlflow) tf_mlflow_log_param(t->mlflow, keys[i], values[i]);
        if (t->report) tf_report_param(t->report, keys[i], values[i]);
    }
}

void tf_tracker_log_scalars(TfTracker *t, int64_t step, const char *const *keys, const double *values, int n) {
    if (n < 0 || n > TF_TRACKER_MAX_SCALARS)
        tf_die_usage("log at most 256 scalars per call", "tracker: %d scalars in one call", n);
    if (step < 0) tf_die_usage("steps start at 0", "tracker: negative step %lld", (long long)step);
    for (int i = 0; i < n; i++) need_key("scalar", keys[i]);
    int64_t ms = tf_track_now_ms();
    if (t->jsonl_on) tf_jsonl_append(t->jsonl_path, step, (double)ms / 1000.0, keys, values, n);
    if (t->mlflow)
        for (int i = 0; i < n; i++) tf_mlflow_log_metric(t->mlflow, keys[i], values[i], step, ms);
    if (t->events) tf_events_scalars(t->events, step, keys, values, n);
    if (t->report)
        for (int i = 0; i < n; i++) tf_report_scalar(t->report, keys[i], step, values[i]);
}

void tf_tracker_log_image(TfTracker *t, int64_t step, const char *tag, const float *images, int n, int C,
                          int H, int W, int rows, int cols) {
    if (!tag || !*tag) tag = "samples";
    need_key("image tag", tag);
    if (step < 0 || step > 9999999999LL)
        tf_die_usage("steps are 0 .. 9999999999", "tracker: image step %lld out of range", (long long)step);
    TfPngBuf png;
    tf_png_encode_grid(&png, images, n, C, H, W, rows, cols, TF_TRACKER_GRID_PAD);

    char name[512], dir[PATH_CAP], path[PATH_CAP];
    if (strcmp(tag, "samples") == 0) {
        tf_track_path(name, sizeof name, "step_%07lld.png", (long long)step);
    } else {
        char flat[TF_MLFLOW_MAX_KEY + 1];
        snprintf(flat, sizeof flat, "%s", tag);
        for (char *p = flat; *p; p++)
            if (*p == '/' || *p == ' ') *p = '_';
        tf_track_path(name, sizeof name, "%s_step_%07lld.png", flat, (long long)step);
    }
    tf_track_path(dir, sizeof dir, "%s/samples", t->run_dir);
    tf_track_mkdirs(dir);
    tf_track_path(path, sizeof path, "%s/%s", dir, name);
    tf_track_write_atomic(path, png.data, png.size);
    if (t->events) tf_events_image(t->events, step, tag, png.data, png.size, png.height, png.width, png.channels);
    if (t->mlflow) {
        char dest[600];
        tf_track_path(dest, sizeof dest, "samples/%s", name);
        tf_mlflow_log_artifact_bytes(t->mlflow, dest, png.data, png.size);
    }
    if (t->report) tf_report_image(t->report, tag, step, png.data, png.size, png.width, png.height);
    tf_png_buf_free(&png);
}

void tf_tracker_log_artifact(TfTracker *t, const char *path) {
    if (!path || !*path) tf_die_usage("pass a file path", "tracker: artifact path is empty");
    if (t->mlflow) tf_mlflow_log_artifact(t->mlflow, path, NULL);
}

void tf_tracker_write_report(TfTracker *t) {
    if (t->report) tf_report_write(t->report, t->report_path);
}

void tf_tracker_close(TfTracker *t, TfRunStatus status) {
    if (!t) return;
    if (status != TF_RUN_FINISHED && status != TF_RUN_FAILED && status != TF_RUN_KILLED)
        tf_die_usage("close with FINISHED, FAILED or KILLED", "tracker: invalid final status %d", (int)status);
    if (t->report) {
        tf_report_write(t->report, t->report_path);
        tf_report_free(t->report);
    }
    tf_events_close(t->events);
    tf_mlflow_close(t->mlflow, status);
    free(t);
}

const char *tf_tracker_run_dir(const TfTracker *t) { return t->run_dir; }
const char *tf_tracker_mlflow_run_dir(const TfTracker *t) { return t->mlflow ? tf_mlflow_run_dir(t->mlflow) : NULL; }
const char *tf_tracker_events_path(const TfTracker *t) { return t->events ? tf_events_path(t->events) : NULL; }
