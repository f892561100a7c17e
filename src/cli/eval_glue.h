/* eval_glue.h - what `tinyflow fid`, `tinyflow classifier` and the FID of `tinyflow train` share:
 * loading the feature classifier named by eval.classifier.ckpt and setting up the reference
 * statistics (dataset.name / eval.ref_split through the classifier, cached next to it and
 * computed in shards over the ranks of `red`; or eval.ref_npz).
 * Knows the config keys and eval/'s API; the computation lives in src/eval. */
#ifndef TF_CLI_EVAL_GLUE_H
#define TF_CLI_EVAL_GLUE_H

#include "config/config.h"
#include "eval/classifier.h"
#include "eval/metrics.h"

/* Load eval.classifier.ckpt with an inference tape of `batch` rows; dies (exit 2) with a hint
 * when the key is unset or the checkpoint does not load. `who` prefixes the messages. */
void tf_cli_load_classifier(const TfCfg *cfg, int batch, TfClassifier *clf, const char *who);

/* The reference statistics for clf: eval.ref_npz when set, else dataset.name / eval.ref_split
 * (cache read when valid, else computed -- collective over red's ranks -- and written by rank 0).
 * Rank 0 prints one line saying where they came from. Dies with a hint on error. */
void tf_cli_fid_reference(const TfCfg *cfg, TfClassifier *clf, const TfReducer *red, TfEvalContext *ctx,
                          const char *who);

#endif
