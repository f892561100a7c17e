/* mlp.c - a time-conditioned MLP for 2-D toy data or flattened images:
 *   h = SiLU(in(x) + time(emb(t)) [+ label_embed(y)]); layers-1 x h = SiLU(hidden.l(h)); out(h).
 * Must not know about files, training or MPI. */
#include <stdio.h>

#include "model/model.h"

void tf_mlp_build(TfTape *tp, const TfModelConfig *c) {
    const int D = tf_model_sample_dim(c);
    tp->input = tf_tape_tensor(tp, c->in_ch, c->image_size, c->image_size);
    tp->t[tp->input].nhwc = 0; /* flattened in the user's (NCHW) order */
    int e = tf_timestep_embed(tp, c->temb_dim, 1000.0f, 10000.0f);
    int h = tf_linear(tp, "in", tp->input, c->hidden, 1);
    h = tf_add(tp, h, tf_linear(tp, "time", e, c->hidden, 1));
    if (c->num_classes > 0) h = tf_add(tp, h, tf_embedding(tp, "label_embed", c->num_classes + 1, c->hidden));
    h = tf_silu(tp, h);
    for (int l = 0; l < c->layers - 1; l++) {
        char name[32];
        snprintf(name, sizeof name, "hidden.%d", l);
        h = tf_linear(tp, name, h, c->hidden, 1);
        h = tf_silu(tp, h);
        if (c->dropout > 0.0f) h = tf_dropout(tp, h, c->dropout);
    }
    tp->output = tf_linear(tp, "out", h, D, 1);
}
