/* train_fid.h - FID during `tinyflow train`: the command line installs src/eval's metrics as the
 * trainer's evaluation hook (train/trainer.h), keeping the dependency one-way (cli -> train, eval).
 * Knows the config keys and both modules' public headers; nothing of the training loop. */
#ifndef TF_CLI_TRAIN_FID_H
#define TF_CLI_TRAIN_FID_H

#include "config/config.h"
#include "train/trainer.h"

typedef struct TfTrainFid TfTrainFid;

/* When eval.fid_samples > 0 and eval.every > 0: with eval.classifier.ckpt set, load the
 * classifier and the reference statistics (collective over the ranks; cached next to the
 * classifier) and install the hook; without it, rank 0 prints one note and NULL is returned (no
 * FID is logged). A classifier that does not fit the model's images ends the run (exit 2). */
TfTrainFid *tf_train_fid_open(const TfCfg *cfg);
/* Remove the hook and free (NULL is fine). */
void tf_train_fid_close(TfTrainFid *f);

#endif
