/* run_model.h - a model as a run recorded it: the TfModelConfig (and path scheduler) rebuilt
 * from the `model:` / `path:` / `dataset:` keys of a composed config (a checkpoint's config
 * text, or a tree), and the parameters of one checkpoint group ("param" or "ema") copied into
 * a finished tape after the signature check (arch + every name and shape).
 * Keys read: model.name (unet|mlp|classifier), in_ch, image_size, num_classes, dropout;
 * unet: base_ch, ch_mult, num_res_blocks, attn_res, groups, heads, zero_init;
 * mlp: hidden, layers, temb_dim; classifier: width (or base_ch), feat_dim, groups.
 * Missing optional keys take tf_model_config_named()'s values for the closest named model.
 * Must not know about MPI, sampling or metrics.
 */
#ifndef TF_EVAL_RUN_MODEL_H
#define TF_EVAL_RUN_MODEL_H

#include <stddef.h>

#include "ckpt/ckpt.h"
#include "config/node.h"
#include "flow/scheduler.h"
#include "model/model.h"

typedef struct {
    TfModelConfig model;
    TfScheduler sched;  /* path.scheduler of the run (condot when absent) */
    char dataset[32];   /* dataset.name of the run ("" when absent) */
} TfRunModel;

/* From a config tree (interpolations are resolved here). 0, or -1 with the key named in err. */
int tf_run_model_from_tree(const TfCfgNode *root, TfRunModel *out, char *err, size_t cap);
/* From YAML text (e.g. TfCkpt.meta.config_text). */
int tf_run_model_from_text(const char *yaml, TfRunModel *out, char *err, size_t cap);

/* A checkpoint file, or a directory (a run folder: its checkpoints/ subfolder): its newest complete
 * checkpoint that validates. */
int tf_run_open_checkpoint(const char *path, TfCkpt **out, char *err, size_t cap);

/* Copy group `group` ("param" or "ema") of ck into tp's parameters after checking that the
 * checkpoint's architecture is `arch` and that the group covers every parameter with its shape. */
int tf_run_load_params(const TfCkpt *ck, const char *group, const char *arch, TfTape *tp, char *err, size_t cap);

/* The checkpoint tensors of a tape's parameters, named "<group>/<name>", data from tp->param
 * (host copies; free the array and each name with tf_run_tensors_free). */
TfCkptTensor *tf_run_tensors(const TfTape *tp, const char *group, int *n);
void tf_run_tensors_free(TfCkptTensor *t, int n);

#endif
