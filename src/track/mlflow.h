/* mlflow.h - an MLflow local *file store* writer (the `mlruns/` layout of MLflow's FileStore):
 *   <root>/.trash/                      created if missing, as FileStore does
 *   <root>/0/meta.yaml                  the "Default" experiment (id '0'), created if missing
 *   <root>/<exp_id>/meta.yaml           experiment, found by name or created with a random id
 *   <root>/<exp_id>/<run_id>/meta.yaml  run: status RUNNING(1) at open, FINISHED(3) / FAILED(4) /
 *                                       KILLED(5) and end_time at close (rewritten atomically)
 *   .../<run_id>/params/<key>           value, no trailing newline, written once (immutable)
 *   .../<run_id>/metrics/<key>          lines "<ms timestamp> <%.17g value> <step>"
 *   .../<run_id>/tags/<key>             mlflow.runName, mlflow.user, mlflow.source.name,
 *                                       mlflow.source.type=LOCAL, mlflow.source.git.commit
 *   .../<run_id>/artifacts/...          copied files (PNG grids, config, checkpoints)
 * Ids: experiment ids match ^[a-zA-Z0-9][\w\-]{0,63}$ and are quoted in YAML; run ids are
 * uuid4 hex (32 chars). Times are ms since the Unix epoch. Keys (params, metrics, tags,
 * artifact paths) must match ^[/\w.\- ]*$, be at most 250 chars, and be normalised relative
 * paths: no leading or trailing '/', no empty, "." or ".." component, no ".." anywhere.
 *
 * Opening it: `MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns`.
 * MLflow >= 3.13 refuses a file store unless the environment variable
 * MLFLOW_ALLOW_FILE_STORE=true is set (the default backend became sqlite:///mlflow.db);
 * MLflow >= 3.10 converts a tree with
 *   mlflow migrate-filestore --source mlruns --target sqlite:///mlflow.db
 * artifact_uri / artifact_location are absolute file:// URIs: moving the tree breaks artifact
 * links (metrics still show).
 * Only one process (rank 0) writes a run. This file must not know about models, MPI,
 * training or the other tracking sinks. */
#ifndef TF_TRACK_MLFLOW_H
#define TF_TRACK_MLFLOW_H

#include <stddef.h>
#include <stdint.h>

/* MLflow RunStatus values, as stored in meta.yaml. */
typedef enum {
    TF_RUN_RUNNING = 1,
    TF_RUN_FINISHED = 3,
    TF_RUN_FAILED = 4,
    TF_RUN_KILLED = 5
} TfRunStatus;

#define TF_MLFLOW_MAX_KEY 250
#define TF_MLFLOW_MAX_PARAM 6000
#define TF_MLFLOW_MAX_TAG 5000
#define TF_MLFLOW_MAX_NAME 250

typedef struct {
    const char *root;       /* the mlruns directory; created if missing */
    const char *experiment; /* experiment name; NULL or "" -> "Default" (id '0') */
    const char *run_name;   /* required */
    const char *user;       /* NULL -> $USER, the password entry, or "unknown" */
    const char *source_name;/* program path for mlflow.source.name; NULL -> "" */
    const char *git_commit; /* NULL -> no mlflow.source.git.commit tag */
} TfMlflowOptions;

typedef struct TfMlflow TfMlflow;

/* Create (or find) the experiment and create a RUNNING run with the standard tags. */
TfMlflow *tf_mlflow_open(const TfMlflowOptions *o);
const char *tf_mlflow_run_id(const TfMlflow *m);
const char *tf_mlflow_experiment_id(const TfMlflow *m);
const char *tf_mlflow_run_dir(const TfMlflow *m);

/* Params are immutable: logging a key again with the same value is a no-op, with another
 * value it is a usage error. */
void tf_mlflow_log_param(TfMlflow *m, const char *key, const char *value);
void tf_mlflow_log_metric(TfMlflow *m, const char *key, double value, int64_t step, int64_t timestamp_ms);
void tf_mlflow_set_tag(TfMlflow *m, const char *key, const char *value);
/* Copy src into artifacts/<dest> (dest NULL -> the basename of src). */
void tf_mlflow_log_artifact(TfMlflow *m, const char *src, const char *dest);
void tf_mlflow_log_artifact_bytes(TfMlflow *m, const char *dest, const void *data, size_t n);

/* Rewrite meta.yaml with status (FINISHED, FAILED or KILLED) and end_time; free m. */
void tf_mlflow_close(TfMlflow *m, TfRunStatus status);

/* 0 when key is a valid MLflow key (see above); -1 with the reason in err. */
int tf_mlflow_check_key(const char *key, char *err, size_t errcap);
/* 0 when id matches ^[a-zA-Z0-9][\w\-]{0,maxlen-1}$; -1 otherwise. */
int tf_mlflow_check_id(const char *id, int maxlen);

#endif
