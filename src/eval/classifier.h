/* classifier.h - the feature classifier of the sample-quality metrics (model `classifier`:
 * tp->features = the penultimate layer, tp->output = logits): default configurations,
 * checkpoint save/load, batched feature/logit extraction, test accuracy, and the
 * data-parallel training loop (classifier_train.c: one process, or ranks that each take their
 * share of every global batch and sum gradients through a caller-supplied allreduce).
 *
 * Checkpoint: src/ckpt's format, tensors "param/<name>", meta.arch "classifier", config text
 *   model: {name: classifier, in_ch, image_size, num_classes, width, feat_dim, groups, dropout}
 *   dataset: {name: <dataset>}
 *   classifier: {test_accuracy, steps, seed, train_seconds}
 * The classifier HASH (16 hex digits) is FNV-1a 64 over the architecture line and the raw
 * parameter bytes: it names cached reference statistics, so retraining invalidates them.
 * Images are float NCHW in [-1, 1] (u8 data as k / 127.5 - 1, as the data loader maps it).
 * Must not know about MPI, flow models or FID.
 */
#ifndef TF_EVAL_CLASSIFIER_H
#define TF_EVAL_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "model/model.h"

typedef struct {
    TfModelConfig cfg;
    char dataset[32];          /* dataset it was trained on ("" unknown) */
    char hash[17];
    char path[4096];           /* checkpoint file ("" when wrapped around a live tape) */
    double recorded_accuracy;  /* test accuracy stored at save time (-1 unknown) */
    TfTape tape;               /* inference tape of `batch` rows */
    float *host;               /* [batch * max(feat_dim, classes)] download buffer */
} TfClassifier;

/* The engine's classifier for images [in_ch, size, size] with `classes` classes: width 32 /
 * features 128 / dropout 0.1 for 1 channel, 64 / 256 / 0.3 for 3 (model.c's named configs). */
TfModelConfig tf_classifier_default_config(int in_ch, int image_size, int classes);

/* Load a checkpoint (file, or directory -> newest complete one); inference tape of `batch` rows. */
int tf_classifier_load(const char *path, int batch, TfClassifier *c, char *err, size_t cap);
/* An inference classifier sharing the parameters of a finished tape `params` (e.g. the training
 * tape) -- changes to those parameters are seen. */
void tf_classifier_wrap(TfClassifier *c, const TfModelConfig *cfg, const TfTape *params, int batch,
                        const char *dataset);
void tf_classifier_free(TfClassifier *c);
/* Recompute c->hash from the current parameters. */
void tf_classifier_rehash(TfClassifier *c);

/* features[n][feat_dim] and/or logits[n][classes] (either may be NULL) of x[n][C][H][W]. */
void tf_classifier_run(TfClassifier *c, const float *x, int64_t n, float *features, float *logits);
/* Fraction of examples [0, limit) of ds (limit <= 0: all) classified correctly. */
double tf_classifier_accuracy(TfClassifier *c, const TfDataset *ds, int64_t limit);

/* Save the parameters of tp (a classifier tape) as dir/step_<steps>.ckpt. path_out may be NULL. */
int tf_classifier_save(const char *dir, const TfModelConfig *cfg, const TfTape *tp, const char *dataset,
                       double test_accuracy, uint64_t steps, uint64_t seed, double seconds, char *path_out,
                       size_t path_cap, char *err, size_t cap);

/* u8 pixels [n] -> floats k / 127.5 - 1. */
void tf_u8_to_float(const uint8_t *px, size_t n, float *out);

/* ---- training (classifier_train.c) ---------------------------------------------------------- */
typedef struct {
    int64_t steps;       /* optimizer steps (> 0) */
    int batch;           /* examples per step */
    float lr, min_lr;    /* peak LR after linear warm-up; cosine decay to min_lr at the last step */
    int warmup;          /* warm-up steps */
    float weight_decay;  /* AdamW decoupled decay */
    int shift;           /* augmentation: random translation by up to +-shift pixels, background -1 filled
                            (MNIST-style shifts; CIFAR-style crop after padding by `shift`) */
    int hflip;           /* augmentation: random horizontal flips (the loader's keyed flips) */
    uint64_t seed;
    int64_t log_every;   /* steps between log lines to `log` (0: none) */
    FILE *log;           /* may be NULL (other ranks than 0: NULL) */
    /* Data parallelism: `batch` is the GLOBAL batch; this rank trains on its share (batch / world
     * rows, the loader's rank shard). allreduce sums a float array in place over all ranks (the
     * gradient arena once per step; a few loss sums at log steps and at the end). world 1 (or 0)
     * and allreduce NULL: one process. */
    int rank, world;
    void (*allreduce)(void *ctx, float *buf, size_t n);
    void *allreduce_ctx;
} TfClassifierTrainOpts;

typedef struct {
    int64_t steps;
    double loss;         /* mean cross-entropy of the last min(100, steps) steps (global batches) */
    double train_acc;    /* accuracy on the augmented training batches of those steps */
    double seconds;
    float *step_loss;    /* [steps]: each step's global-batch loss (the same on every rank); free() it */
} TfClassifierTrainResult;

/* Build tp (TF_BUILD_TRAIN, o->batch / o->world rows, initialised from o->seed: the same on every
 * rank) and train it on `train` with cross-entropy, AdamW and the warm-up + cosine schedule. Every
 * draw (shuffle, flips, shifts, dropout) is keyed by the sample's GLOBAL index and the loss is
 * divided by the global batch, so the summed gradient is the gradient of the global mean and W
 * ranks train what one process trains, up to float rounding. Collective when world > 1 (every
 * rank calls it with the same options). OpenMP threads in the ops. The caller frees tp. */
void tf_classifier_train(TfTape *tp, const TfModelConfig *cfg, const TfClassifierTrainOpts *o,
                         const TfDataset *train, TfClassifierTrainResult *res);

/* The learning rate at step s (0-based) of the schedule above. */
float tf_classifier_lr(const TfClassifierTrainOpts *o, int64_t s);

#endif
