/* tape_run.c - planning, allocation, initialisation and execution of a built tape.
 * Dispatches each node kind to the backend's op table; knows no architecture. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "model/tape.h"

#define NO_GRAD ((size_t)-1)
#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

void tf_tape_init_params(TfTape *tp, uint64_t seed) {
    float *host = tf_malloc(sizeof(float) * (tp->n_param_floats ? tp->n_param_floats : 1));
    memset(host, 0, sizeof(float) * tp->n_param_floats);
    for (int p = 0; p < tp->n_params; p++) {
        const TfParamInfo *pi = &tp->params[p];
        float *d = host + pi->offset;
        TfRng r = tf_rng(seed, TF_STREAM_INIT, 0, (uint64_t)p);
        switch (pi->init) {
        case TF_INIT_ZERO: break;
        case TF_INIT_ONE: for (size_t i = 0; i < pi->numel; i++) d[i] = 1.0f; break;
        case TF_INIT_FANIN_UNIFORM: {
            /* PyTorch's default for Conv/Linear (kaiming_uniform with a = sqrt(5)) and their biases. */
            float bound = 1.0f / sqrtf(pi->init_arg);
            for (size_t i = 0; i < pi->numel; i++) d[i] = bound * (2.0f * tf_rng_uniform(&r, i) - 1.0f);
            break;
        }
        case TF_INIT_NORMAL: tf_rng_fill_normal(&r, 0, d, pi->numel);
            for (size_t i = 0; i < pi->numel; i++) d[i] *= pi->init_arg;
            break;
        }
    }
    tp->be->upload(tp->param, host, sizeof(float) * tp->n_param_floats);
    free(host);
}

void tf_tape_finish(TfTape *tp, uint64_t seed, const TfTape *share) {
    const TfBackend *be = tp->be;
    if (tp->output < 0) tf_die("model builder did not set an output tensor");
    /* 1. Which tensors need a gradient: outputs of nodes with parameters or with an input
     *    that needs one (forward order). The model input only when asked for. */
    if (tp->input >= 0) tp->t[tp->input].needs_grad = tp->input_needs_grad;
    for (int i = 0; i < tp->n_nodes && !tp->inference; i++) {
        TfNode *n = &tp->nodes[i];
        int ng = n->w >= 0 || n->b >= 0;
        for (int k = 0; k < 2; k++)
            if (n->in[k] >= 0 && tp->t[n->in[k]].needs_grad) ng = 1;
        tp->t[n->out].needs_grad = ng;
    }
    /* 2. Memory: activations (and saved buffers), then gradients of those that need them. */
    size_t off = 0, goff = 0;
    for (int i = 0; i < tp->n_t; i++) {
        tp->t[i].offset = off;
        off += ALIGN16(tp->t[i].numel);
        if (tp->t[i].needs_grad) { tp->t[i].goffset = goff; goff += ALIGN16(tp->t[i].numel); }
    }
    tp->act_floats = off;
    tp->act_grad_floats = goff;
    /* 3. Overwrite-or-add plan for backward: in reverse order, the first op to produce a
     *    tensor's gradient overwrites it, the others add. The output's gradient is written
     *    by the caller, so everything that reads the output adds. */
    unsigned char *written = tf_calloc((size_t)tp->n_t, 1);
    written[tp->output] = 1;
    for (int i = tp->n_nodes - 1; i >= 0; i--) {
        TfNode *n = &tp->nodes[i];
        if (!tp->t[n->out].needs_grad) continue;
        for (int k = 0; k < 2; k++) {
            int x = n->in[k];
            if (x < 0 || !tp->t[x].needs_grad) continue;
            n->acc[k] = written[x];
            written[x] = 1;
        }
    }
    tp->zero_before_bwd = tf_calloc((size_t)tp->n_t, sizeof(int));
    for (int i = 0; i < tp->n_nodes; i++) {
        int y = tp->nodes[i].out;
        if (tp->t[y].needs_grad && !written[y]) tp->zero_before_bwd[tp->n_zero_before_bwd++] = y;
    }
    if (tp->input >= 0 && tp->input_needs_grad && !written[tp->input])
        tp->zero_before_bwd[tp->n_zero_before_bwd++] = tp->input;
    free(written);
    /* 4. Scratch: the largest any node needs (nodes run one at a time). */
    for (int i = 0; i < tp->n_nodes; i++)
        if (tp->nodes[i].scratch > tp->scratch_floats) tp->scratch_floats = tp->nodes[i].scratch;
    if (tp->inference) tp->n_zero_before_bwd = 0;
    /* 5. Allocate, once. */
    if (share) {
        if (share->n_param_floats != tp->n_param_floats || share->n_params != tp->n_params)
            tf_die("tape_finish: shared parameters come from a different architecture");
        tp->param = share->param;
        tp->grad = share->grad;
        tp->owns_params = 0;
    } else {
        tp->param = be->alloc(sizeof(float) * (tp->n_param_floats ? tp->n_param_floats : 1));
        tp->grad = tp->inference ? NULL : be->alloc(sizeof(float) * (tp->n_param_floats ? tp->n_param_floats : 1));
        tp->owns_params = 1;
        tf_tape_init_params(tp, seed);
    }
    tp->act = be->alloc(sizeof(float) * (tp->act_floats ? tp->act_floats : 1));
    tp->act_grad = tp->inference ? NULL : be->alloc(sizeof(float) * (tp->act_grad_floats ? tp->act_grad_floats : 1));
    tp->scratch = be->alloc(sizeof(float) * (tp->scratch_floats ? tp->scratch_floats : 1));
    tp->labels = be->alloc(sizeof(int32_t) * (size_t)tp->batch);
    tp->time = be->alloc(sizeof(float) * (size_t)tp->batch);
}

void tf_tape_free(TfTape *tp) {
    const TfBackend *be = tp->be;
    for (int i = 0; i < tp->n_nodes; i++)
        if (tp->nodes[i].kind == TF_NODE_CONV && be) be->ops.conv2d_unplan(&tp->nodes[i].conv);
    if (be) {
        if (tp->owns_params) { be->release(tp->param); be->release(tp->grad); }
        be->release(tp->act);
        be->release(tp->act_grad);
        be->release(tp->scratch);
        be->release(tp->labels);
        be->release(tp->time);
    }
    free(tp->params);
    free(tp->t);
    free(tp->nodes);
    free(tp->zero_before_bwd);
    memset(tp, 0, sizeof *tp);
}

size_t tf_tape_bytes(const TfTape *tp) {
    return sizeof(float) * (2 * tp->n_param_floats + tp->act_floats + tp->act_grad_floats + tp->scratch_floats);
}

void tf_tape_zero_grad(TfTape *tp) {
    if (tp->grad) tp->be->zero(tp->grad, sizeof(float) * tp->n_param_floats);
}

#define X(id) (tp->act + tp->t[id].offset)
static float *gptr(const TfTape *tp, int id) {
    return id >= 0 && tp->t[id].goffset != NO_GRAD ? tp->act_grad + tp->t[id].goffset : NULL;
}
#define G(id) gptr(tp, id)
#define P(id) ((id) >= 0 ? tp->param + tp->params[id].offset : NULL)
#define PG(id) ((id) >= 0 ? tp->grad + tp->params[id].offset : NULL)
#define SH(id, k) (tp->t[id].shape[k])
#define DIM(id) (SH(id, 1) * SH(id, 2) * SH(id, 3))

const char *tf_node_kind_name(TfNodeKind k) {
    static const char *names[TF_NODE_KINDS] = {"conv", "linear", "groupnorm", "silu", "add", "bcast_add",
        "concat", "upsample2", "avgpool", "maxpool", "attention", "timestep_embed", "embedding", "dropout",
        "to_nhwc", "to_nchw"};
    return (unsigned)k < TF_NODE_KINDS ? names[k] : "?";
}

void tf_tape_print_profile(const TfTape *tp) {
    if (!tp->profile) return;
    double tot = 0.0;
    for (int k = 0; k < TF_NODE_KINDS; k++) tot += tp->profile[k][0] + tp->profile[k][1];
    printf("%-16s %10s %10s %6s\n", "node kind", "fwd s", "bwd s", "share");
    for (int k = 0; k < TF_NODE_KINDS; k++)
        if (tp->profile[k][0] + tp->profile[k][1] > 0)
            printf("%-16s %10.3f %10.3f %5.1f%%\n", tf_node_kind_name((TfNodeKind)k), tp->profile[k][0],
                   tp->profile[k][1], 100.0 * (tp->profile[k][0] + tp->profile[k][1]) / tot);
}

static double wall(void) { return omp_get_wtime(); }

void tf_tape_forward(TfTape *tp) {
    const TfOps *o = &tp->be->ops;
    const int B = tp->batch;
    for (int i = 0; i < tp->n_nodes; i++) {
        const TfNode *n = &tp->nodes[i];
        double t0 = tp->profile ? wall() : 0.0;
        int x = n->in[0], x2 = n->in[1], y = n->out;
        switch (n->kind) {
        case TF_NODE_CONV: o->conv2d_fwd(&n->conv, X(x), P(n->w), P(n->b), X(y), tp->scratch); break;
        case TF_NODE_LINEAR: o->linear_fwd(B, DIM(x), DIM(y), X(x), P(n->w), P(n->b), X(y)); break;
        case TF_NODE_GROUPNORM:
            o->groupnorm_fwd(B, SH(x, 1), SH(x, 2) * SH(x, 3), n->ip[0], n->fp[0], n->ip[1], X(x), P(n->w),
                             P(n->b), X(y), X(n->aux[0]), X(n->aux[1]));
            break;
        case TF_NODE_SILU: o->silu_fwd(tp->t[x].numel, X(x), X(y)); break;
        case TF_NODE_ADD: o->add_fwd(tp->t[x].numel, X(x), X(x2), X(y)); break;
        case TF_NODE_BCAST_ADD: o->bcast_fwd(B, SH(x, 1), SH(x, 2) * SH(x, 3), 0, X(x), X(x2), X(y)); break;
        case TF_NODE_CONCAT: o->concat_fwd(B, SH(x, 1), SH(x2, 1), SH(x, 2) * SH(x, 3), X(x), X(x2), X(y)); break;
        case TF_NODE_UPSAMPLE2: o->upsample2_fwd(B, SH(x, 1), SH(x, 2), SH(x, 3), X(x), X(y)); break;
        case TF_NODE_AVGPOOL: o->avgpool_fwd(B, SH(x, 1), SH(x, 2), SH(x, 3), n->ip[0], n->ip[1], X(x), X(y)); break;
        case TF_NODE_MAXPOOL:
            o->maxpool_fwd(B, SH(x, 1), SH(x, 2), SH(x, 3), n->ip[0], n->ip[1], X(x), X(y), (int32_t *)X(n->aux[0]));
            break;
        case TF_NODE_ATTENTION: o->attention_fwd(B, SH(y, 1), SH(y, 2) * SH(y, 3), n->ip[0], X(x), X(y), X(n->aux[0])); break;
        case TF_NODE_TIMESTEP_EMBED: o->timestep_embed_fwd(B, DIM(y), n->fp[0], n->fp[1], tp->time, X(y)); break;
        case TF_NODE_EMBEDDING: o->embedding_fwd(B, DIM(y), n->ip[0], tp->labels, P(n->w), X(y)); break;
        case TF_NODE_DROPOUT:
            if (tp->training && n->fp[0] > 0.0f)
                o->dropout_fwd(B, (size_t)DIM(x), n->fp[0], tp->seed, tp->step, tp->sample0, (uint32_t)n->ip[0], X(x), X(y));
            else tp->be->upload(X(y), X(x), sizeof(float) * tp->t[x].numel);
            break;
        case TF_NODE_TO_NHWC: o->nchw_to_nhwc(B, SH(x, 1), SH(x, 2) * SH(x, 3), X(x), X(y), 0); break;
        case TF_NODE_TO_NCHW: o->nhwc_to_nchw(B, SH(x, 1), SH(x, 2) * SH(x, 3), X(x), X(y), 0); break;
        }
        if (tp->profile) {
            tp->be->sync();
            double dt = wall() - t0;
            tp->profile[n->kind][0] += dt;
            if (tp->node_profile) tp->node_profile[i][0] += dt;
        }
    }
}

void tf_tape_backward(TfTape *tp) {
    if (tp->inference) tf_die("backward called on a tape built for inference (TF_BUILD_INFERENCE)");
    const TfOps *o = &tp->be->ops;
    const int B = tp->batch;
    for (int k = 0; k < tp->n_zero_before_bwd; k++) {
        int id = tp->zero_before_bwd[k];
        tp->be->zero(G(id), sizeof(float) * tp->t[id].numel);
    }
    for (int i = tp->n_nodes - 1; i >= 0; i--) {
        const TfNode *n = &tp->nodes[i];
        int x = n->in[0], x2 = n->in[1], y = n->out;
        if (!tp->t[y].needs_grad) continue;
        float *dy = G(y);
        double t0 = tp->profile ? wall() : 0.0;
        switch (n->kind) {
        case TF_NODE_CONV:
            o->conv2d_bwd(&n->conv, X(x), P(n->w), dy, G(x), n->acc[0], PG(n->w), PG(n->b), tp->scratch);
            break;
        case TF_NODE_LINEAR: o->linear_bwd(B, DIM(x), DIM(y), X(x), P(n->w), dy, G(x), n->acc[0], PG(n->w), PG(n->b)); break;
        case TF_NODE_GROUPNORM:
            o->groupnorm_bwd(B, SH(x, 1), SH(x, 2) * SH(x, 3), n->ip[0], n->ip[1], X(x), P(n->w), P(n->b),
                             X(n->aux[0]), X(n->aux[1]), dy, G(x), n->acc[0], PG(n->w), PG(n->b), tp->scratch);
            break;
        case TF_NODE_SILU: if (G(x)) o->silu_bwd(tp->t[x].numel, X(x), dy, G(x), n->acc[0]); break;
        case TF_NODE_ADD: o->add_bwd(tp->t[x].numel, dy, G(x), n->acc[0], G(x2), n->acc[1]); break;
        case TF_NODE_BCAST_ADD:
            o->bcast_bwd(B, SH(x, 1), SH(x, 2) * SH(x, 3), 0, X(x), X(x2), dy, G(x), n->acc[0], G(x2), n->acc[1]);
            break;
        case TF_NODE_CONCAT: o->concat_bwd(B, SH(x, 1), SH(x2, 1), SH(x, 2) * SH(x, 3), dy, G(x), n->acc[0], G(x2), n->acc[1]); break;
        case TF_NODE_UPSAMPLE2: if (G(x)) o->upsample2_bwd(B, SH(x, 1), SH(x, 2), SH(x, 3), dy, G(x), n->acc[0]); break;
        case TF_NODE_AVGPOOL: if (G(x)) o->avgpool_bwd(B, SH(x, 1), SH(x, 2), SH(x, 3), n->ip[0], n->ip[1], dy, G(x), n->acc[0]); break;
        case TF_NODE_MAXPOOL:
            if (G(x)) o->maxpool_bwd(B, SH(x, 1), SH(x, 2), SH(x, 3), n->ip[0], n->ip[1], (const int32_t *)X(n->aux[0]), dy, G(x), n->acc[0]);
            break;
        case TF_NODE_ATTENTION:
            if (G(x)) o->attention_bwd(B, SH(y, 1), SH(y, 2) * SH(y, 3), n->ip[0], X(x), X(n->aux[0]), dy, G(x), n->acc[0], tp->scratch);
            break;
        case TF_NODE_TIMESTEP_EMBED: break; /* t is not differentiated */
        case TF_NODE_EMBEDDING: o->embedding_bwd(B, DIM(y), n->ip[0], tp->labels, dy, PG(n->w)); break;
        case TF_NODE_DROPOUT:
            if (!G(x)) break;
            if (tp->training && n->fp[0] > 0.0f)
                o->dropout_bwd(B, (size_t)DIM(x), n->fp[0], tp->seed, tp->step, tp->sample0, (uint32_t)n->ip[0], dy, G(x), n->acc[0]);
            else o->add_bwd(tp->t[x].numel, dy, G(x), n->acc[0], NULL, 0);
            break;
        case TF_NODE_TO_NHWC: if (G(x)) o->nhwc_to_nchw(B, SH(x, 1), SH(x, 2) * SH(x, 3), dy, G(x), n->acc[0]); break;
        case TF_NODE_TO_NCHW: if (G(x)) o->nchw_to_nhwc(B, SH(x, 1), SH(x, 2) * SH(x, 3), dy, G(x), n->acc[0]); break;
        }
        if (tp->profile) {
            tp->be->sync();
            double dt = wall() - t0;
            tp->profile[n->kind][1] += dt;
            if (tp->node_profile) tp->node_profile[i][1] += dt;
        }
    }
}
