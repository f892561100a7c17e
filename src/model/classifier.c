/* classifier.c - the CNN classifier behind tinyflow's FID: three stages of two
 * 3x3 conv + GroupNorm + SiLU (width w, 2w, 4w), max-pooling between stages,
 * global average pooling, then fc1 -> SiLU = the penultimate FEATURES (feat_dim)
 * and fc2 -> logits. Must not know about files, training or MPI. */
#include "model/model.h"

void tf_classifier_build(TfTape *tp, const TfModelConfig *c) {
    const int w = c->width;
    tp->input = tf_tape_tensor(tp, c->in_ch, c->image_size, c->image_size);
    tp->t[tp->input].nhwc = 0; /* the user's layout */
    int h = tf_to_nhwc(tp, tp->input);
    int groups = c->groups;
    for (int s = 0; s < 3; s++) {
        int ch = w << s;
        for (int k = 0; k < 2; k++) {
            tf_tape_push(tp, "stage%d.%d", s, k);
            h = tf_conv(tp, "conv", h, ch, 3, 1, 1, 1);
            h = tf_groupnorm(tp, "norm", h, groups, 1);
            tf_tape_pop(tp);
        }
        if (s < 2) h = tf_maxpool(tp, h, 2, 2);
    }
    h = tf_avgpool(tp, h, tp->t[h].shape[2], 1); /* global average: [B, 4w, 1, 1] */
    if (c->dropout > 0.0f) h = tf_dropout(tp, h, c->dropout);
    h = tf_linear(tp, "fc1", h, c->feat_dim, 1);
    tp->features = tf_silu(tp, h);
    h = tp->features;
    if (c->dropout > 0.0f) h = tf_dropout(tp, h, c->dropout);
    tp->output = tf_linear(tp, "fc2", h, c->num_classes, 1);
}
