/* model.h - the architectures tinyflow trains, as configurations and tape builders.
 *
 *   unet        the DDPM/ADM-style UNet of shared/reference/unet.md (options: heads,
 *               dropout, num_classes, zero_init); input [B, in_ch, S, S], t, labels.
 *   mlp         a time-conditioned MLP for 2-D toy data or flattened images.
 *   classifier  a CNN returning logits and a penultimate feature vector (FID).
 * A model is built once for (config, batch) into a TfTape; see tape.h.
 * This file must not know about files, configs in YAML, or MPI.
 */
#ifndef TF_MODEL_H
#define TF_MODEL_H

#include <stdint.h>

#include "model/tape.h"

#define TF_MAX_LEVELS 8

typedef enum { TF_MODEL_UNET = 0, TF_MODEL_MLP = 1, TF_MODEL_CLASSIFIER = 2 } TfModelKind;

typedef struct {
    TfModelKind kind;
    int in_ch, image_size;         /* images: [in_ch, image_size, image_size]; mlp: dim = in_ch*S*S */
    int num_classes;               /* 0 = unconditional (unet, mlp); classes (classifier) */
    float dropout;
    /* unet */
    int base_ch;
    int ch_mult[TF_MAX_LEVELS], n_mult;
    int num_res_blocks;
    int attn_res[TF_MAX_LEVELS], n_attn;
    int groups, heads;
    int zero_init;                 /* zero the last conv of every res block and the output conv */
    /* mlp */
    int hidden, layers, temb_dim;
    /* classifier */
    int width, feat_dim;
} TfModelConfig;

/* The named configurations: "mnist" and "cifar" (reference UNets), "mlp2d" (toy MLP),
 * "classifier_mnist", "classifier_cifar". Dies naming the valid names otherwise. */
TfModelConfig tf_model_config_named(const char *name);
const char *tf_model_kind_name(TfModelKind k);

/* Check a configuration; dies with a message naming the offending key (model.<key>) and a fix. */
void tf_model_config_validate(const TfModelConfig *c);

/* Build flags. */
enum {
    TF_BUILD_TRAIN = 0,      /* parameter gradients */
    TF_BUILD_INPUT_GRAD = 1, /* also d(loss)/d(input) (likelihood, VJPs) */
    TF_BUILD_INFERENCE = 2   /* forward only: no gradient memory at all (sampling, FID) */
};
/* Build the tape for `batch` samples with TF_BUILD_* flags. Parameters are initialised
 * from `seed`, or borrowed from `share` (a finished tape of the same configuration). */
void tf_model_build(TfTape *tp, const TfModelConfig *c, const TfBackend *be, int batch, int flags,
                    uint64_t seed, const TfTape *share);

/* Numbers per sample at the input (and, for unet/mlp, the output). */
int tf_model_sample_dim(const TfModelConfig *c);
/* Forward multiply-accumulates per sample (for FLOP reporting). */
double tf_model_macs(const TfTape *tp);

/* Per-architecture builders (unet.c, mlp.c, classifier.c). */
void tf_unet_build(TfTape *tp, const TfModelConfig *c);
void tf_mlp_build(TfTape *tp, const TfModelConfig *c);
void tf_classifier_build(TfTape *tp, const TfModelConfig *c);

#endif
