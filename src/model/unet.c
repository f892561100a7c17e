/* unet.c - the reference UNet (shared/reference/unet.md) as a tape.
 * Parameter names follow the PyTorch reference module (tests/torch/unet_ref.py)
 * so weights and gradients can be compared name by name.
 * Must not know about files, training or MPI. */
#include "core/check.h"
#include "model/model.h"

typedef struct {
    int temb_act; /* SiLU(temb) [B, 4C]: every res block projects it */
    const TfModelConfig *c;
} UNetCtx;

/* ResBlock(cin -> cout) with the name scope already pushed. */
static int resblock(TfTape *tp, const UNetCtx *u, int x, int cout) {
    int cin = tp->t[x].shape[1];
    int h = tf_groupnorm(tp, "norm1", x, u->c->groups, 1);
    h = tf_conv(tp, "conv1", h, cout, 3, 1, 1, 1);
    int tproj = tf_linear(tp, "temb_proj", u->temb_act, cout, 1);
    h = tf_bcast_add(tp, h, tproj);
    h = tf_groupnorm(tp, "norm2", h, u->c->groups, 1);
    if (u->c->dropout > 0.0f) h = tf_dropout(tp, h, u->c->dropout);
    int pconv2 = tp->n_params;
    h = tf_conv(tp, "conv2", h, cout, 3, 1, 1, 1);
    if (u->c->zero_init) {
        tp->params[pconv2].init = TF_INIT_ZERO;
        tp->params[pconv2 + 1].init = TF_INIT_ZERO;
    }
    int skip = cin == cout ? x : tf_conv(tp, "skip", x, cout, 1, 1, 0, 1);
    return tf_add(tp, h, skip);
}

static int attnblock(TfTape *tp, const UNetCtx *u, int x) {
    int ch = tp->t[x].shape[1];
    int h = tf_groupnorm(tp, "norm", x, u->c->groups, 0);
    int qkv = tf_conv(tp, "qkv", h, 3 * ch, 1, 1, 0, 1);
    int a = tf_attention(tp, qkv, u->c->heads);
    int p = tf_conv(tp, "proj", a, ch, 1, 1, 0, 1);
    return tf_add(tp, x, p);
}

static int wants_attn(const TfModelConfig *c, int res) {
    for (int i = 0; i < c->n_attn; i++)
        if (c->attn_res[i] == res) return 1;
    return 0;
}

void tf_unet_build(TfTape *tp, const TfModelConfig *c) {
    const int C = c->base_ch, S = c->image_size;
    UNetCtx u = {-1, c};
    /* time (and label) embedding */
    int e = tf_timestep_embed(tp, C, 1000.0f, 10000.0f);
    e = tf_linear(tp, "time_embed.0", e, 4 * C, 1);
    e = tf_silu(tp, e);
    e = tf_linear(tp, "time_embed.2", e, 4 * C, 1);
    if (c->num_classes > 0) e = tf_add(tp, e, tf_embedding(tp, "label_embed", c->num_classes + 1, 4 * C));
    u.temb_act = tf_silu(tp, e);

    tp->input = tf_tape_tensor(tp, c->in_ch, S, S);
    tp->t[tp->input].nhwc = 0; /* the user's layout */
    int h = tf_conv(tp, "stem", tf_to_nhwc(tp, tp->input), C, 3, 1, 1, 1);
    int skips[4 * TF_MAX_LEVELS * 8], ns = 0, res = S;
    skips[ns++] = h;
    for (int i = 0; i < c->n_mult; i++) {
        for (int j = 0; j < c->num_res_blocks; j++) {
            tf_tape_push(tp, "down.%d.blocks.%d", i, j);
            tf_tape_push(tp, "res");
            h = resblock(tp, &u, h, C * c->ch_mult[i]);
            tf_tape_pop(tp);
            if (wants_attn(c, res)) { tf_tape_push(tp, "attn"); h = attnblock(tp, &u, h); tf_tape_pop(tp); }
            tf_tape_pop(tp);
            skips[ns++] = h;
        }
        if (i != c->n_mult - 1) {
            tf_tape_push(tp, "down.%d", i);
            h = tf_conv(tp, "downsample", h, tp->t[h].shape[1], 3, 2, 1, 1);
            tf_tape_pop(tp);
            res = tp->t[h].shape[2];
            skips[ns++] = h;
        }
    }
    tf_tape_push(tp, "mid");
    tf_tape_push(tp, "res1"); h = resblock(tp, &u, h, tp->t[h].shape[1]); tf_tape_pop(tp);
    tf_tape_push(tp, "attn"); h = attnblock(tp, &u, h); tf_tape_pop(tp);
    tf_tape_push(tp, "res2"); h = resblock(tp, &u, h, tp->t[h].shape[1]); tf_tape_pop(tp);
    tf_tape_pop(tp);
    for (int i = c->n_mult - 1; i >= 0; i--) {
        for (int j = 0; j < c->num_res_blocks + 1; j++) {
            h = tf_concat(tp, h, skips[--ns]);
            tf_tape_push(tp, "up.%d.blocks.%d", i, j);
            tf_tape_push(tp, "res");
            h = resblock(tp, &u, h, C * c->ch_mult[i]);
            tf_tape_pop(tp);
            if (wants_attn(c, res)) { tf_tape_push(tp, "attn"); h = attnblock(tp, &u, h); tf_tape_pop(tp); }
            tf_tape_pop(tp);
        }
        if (i != 0) {
            h = tf_upsample2(tp, h);
            tf_tape_push(tp, "up.%d", i);
            h = tf_conv(tp, "upsample", h, tp->t[h].shape[1], 3, 1, 1, 1);
            tf_tape_pop(tp);
            res = tp->t[h].shape[2];
        }
    }
    TF_ASSERT(ns == 0);
    h = tf_groupnorm(tp, "out_norm", h, c->groups, 1);
    int pout = tp->n_params;
    tp->output = tf_to_nchw(tp, tf_conv(tp, "out_conv", h, c->in_ch, 3, 1, 1, 1));
    if (c->zero_init) {
        tp->params[pout].init = TF_INIT_ZERO;
        tp->params[pout + 1].init = TF_INIT_ZERO;
    }
}
