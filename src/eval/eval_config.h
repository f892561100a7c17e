/* eval_config.h - the config keys of evaluation read into the structs of eval/ (so the CLI
 * commands and the trainer read them one way): sampling (eval.solver.* falling back to
 * solver.*, trainer.seed, eval.batch_size), metric options (eval.kid_*), the classifier's
 * architecture and training options (eval.classifier.*, per-dataset defaults for null keys).
 * Config errors end the program with exit code 2 naming the key (config/config.h getters).
 * Must not know about MPI, files or the CLI.
 */
#ifndef TF_EVAL_EVAL_CONFIG_H
#define TF_EVAL_EVAL_CONFIG_H

#include "config/config.h"
#include "data/dataset.h"
#include "eval/classifier.h"
#include "eval/metrics.h"
#include "eval/sampler.h"

/* The string at key, or NULL when the key is absent or null. */
const char *tf_eval_cfg_str(const TfCfg *cfg, const char *key);

/* The guidance interval [lo, hi] from eval.solver.guidance_interval, else solver.guidance_interval,
 * else [0, 1] (guide at every t). Validated by the schema (2 elements, 0 <= lo < hi <= 1). */
void tf_eval_guidance_interval(const TfCfg *cfg, float iv[2]);
/* Sampling options; sched is the path the model was trained with (from its checkpoint). */
TfEvalSampleOpts tf_eval_sample_opts(const TfCfg *cfg, const TfScheduler *sched);
TfEvalOpts tf_eval_metric_opts(const TfCfg *cfg);

/* The classifier for dataset `ds` (its shape and classes) with eval.classifier.* overrides. */
TfModelConfig tf_eval_classifier_config(const TfCfg *cfg, const TfDataset *ds);
/* Training options for `train` (steps from eval.classifier.steps, else epochs x batches). */
TfClassifierTrainOpts tf_eval_classifier_train_opts(const TfCfg *cfg, const TfDataset *train);

/* dataset.name (root dataset.root, toy sets dataset.n_samples points, seed trainer.seed), `split`.
 * Ends the program with a hint when it cannot be opened (data/dataset.h). */
TfDataset *tf_eval_cfg_dataset(const TfCfg *cfg, const char *split);

/* OpenMP threads from trainer.threads when set (else left as they are). */
void tf_eval_cfg_threads(const TfCfg *cfg);

#endif
