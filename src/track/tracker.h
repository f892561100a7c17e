/* tracker.h - the one façade rank 0 of the trainer uses to record a run. It fans each call
 * out to the enabled sinks, all under the run directory by default:
 *   <run_dir>/metrics.jsonl                       scalars, one JSON object per call (jsonl.h)
 *   <run_dir>/mlruns/                             MLflow file store (mlflow.h; root selectable)
 *   <run_dir>/tb/events.out.tfevents.<t>.<host>   TensorBoard scalars and images (tfevents.h)
 *   <run_dir>/samples/step_XXXXXXX.png            image grids (png.h); a tag other than
 *                                                 "samples" gives <tag>_step_XXXXXXX.png
 *   <run_dir>/report.html                         self-contained report (report.h)
 * Keys are validated by MLflow's rules for every sink (see mlflow.h), so a key accepted by one
 * sink is accepted by all. Failures end the program through core/check.h.
 * This file must not know about models, MPI, training or checkpoints: the trainer passes
 * plain names, numbers and float image batches. */
#ifndef TF_TRACK_TRACKER_H
#define TF_TRACK_TRACKER_H

#include <stdint.h>

#include "track/mlflow.h"

#define TF_TRACKER_MAX_SCALARS 256 /* keys per tf_tracker_log_scalars call */
#define TF_TRACKER_GRID_PAD 2      /* black pixels between grid cells */

typedef struct {
    const char *run_dir;     /* required; created if missing */
    const char *experiment;  /* MLflow experiment name; NULL -> "Default" */
    const char *run_name;    /* NULL -> the basename of run_dir */
    const char *mlflow_root; /* NULL -> <run_dir>/mlruns */
    const char *source_name; /* mlflow.source.name (program path); NULL -> "tinyflow" */
    const char *git_commit;  /* mlflow.source.git.commit; NULL -> not tagged */
    const char *user;        /* mlflow.user / user_id; NULL -> $USER */
    int64_t resume_step;     /* > 0: a resumed run; TensorBoard drops older points >= this step */
    int enable_jsonl, enable_mlflow, enable_tensorboard, enable_report;
    int report_log_loss;     /* report plots keys containing "loss" on a log10 axis */
} TfTrackerOptions;

typedef struct TfTracker TfTracker;

/* Every sink enabled, log-scale loss, everything else NULL/0. */
TfTrackerOptions tf_tracker_defaults(void);

TfTracker *tf_tracker_open(const TfTrackerOptions *o);
/* Params (MLflow params, report table). Immutable: re-logging a key needs the same value. */
void tf_tracker_log_params(TfTracker *t, const char *const *keys, const char *const *values, int n);
/* Scalars at step: metrics.jsonl, MLflow metrics, one TensorBoard event, report history. */
void tf_tracker_log_scalars(TfTracker *t, int64_t step, const char *const *keys, const double *values, int n);
/* images [n, C, H, W] in [-1, 1] as a rows x cols grid (0, 0 = near square): a PNG under samples/,
 * a TensorBoard image, an MLflow artifact samples/<file>, and the report's image list. */
void tf_tracker_log_image(TfTracker *t, int64_t step, const char *tag, const float *images, int n, int C,
                          int H, int W, int rows, int cols);
/* Copy a file into the MLflow run's artifacts/ (no-op without MLflow). */
void tf_tracker_log_artifact(TfTracker *t, const char *path);
/* Rewrite <run_dir>/report.html atomically (no-op when the report is disabled). */
void tf_tracker_write_report(TfTracker *t);
/* Final report, close the event file, set the MLflow status (FINISHED/FAILED/KILLED); free t. */
void tf_tracker_close(TfTracker *t, TfRunStatus status);

/* Where things went (NULL when that sink is disabled). */
const char *tf_tracker_run_dir(const TfTracker *t);
const char *tf_tracker_mlflow_run_dir(const TfTracker *t);
const char *tf_tracker_events_path(const TfTracker *t);

#endif
