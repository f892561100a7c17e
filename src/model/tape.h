/* tape.h - a model as a fixed list of op nodes over planned memory.
 *
 * A builder records nodes and tensor shapes once, for one batch size; then
 * tf_tape_finish() plans memory and allocates, once:
 *   - parameters, gradients: ONE arena each, the same layout, described by a
 *     table of named, shaped tensors (zero-grad, allreduce, optimizer and
 *     checkpoint are each one pass over an arena);
 *   - activations (+ the buffers ops save for backward) in one arena, and
 *     their gradients in another;
 *   - op scratch (im2col, attention) in one buffer.
 * Forward runs the nodes in order; backward replays them in reverse. Whether a
 * backward op overwrites or adds into an input gradient is planned here, so no
 * activation gradient is ever zeroed. Nothing is allocated after finish.
 * This file must not know about any particular architecture, files or MPI.
 */
#ifndef TF_MODEL_TAPE_H
#define TF_MODEL_TAPE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

#define TF_NAME_MAX 96

typedef enum { TF_INIT_ZERO, TF_INIT_ONE, TF_INIT_FANIN_UNIFORM, TF_INIT_NORMAL } TfInitKind;

typedef struct {
    char name[TF_NAME_MAX]; /* PyTorch-style dotted name, e.g. "down.0.blocks.1.res.conv1.weight" */
    int ndim, shape[4];
    size_t offset, numel;   /* floats, into the parameter (and gradient, moment) arenas */
    TfInitKind init;
    float init_arg;         /* fan-in for FANIN_UNIFORM (bound 1/sqrt(fan_in)), std for NORMAL */
} TfParamInfo;

typedef struct {
    int shape[4];           /* [B, C, H, W]; vectors are [B, D, 1, 1] */
    size_t numel;
    size_t offset;          /* floats into the activation arena */
    size_t goffset;         /* floats into the activation-gradient arena, or SIZE_MAX */
    int needs_grad;
    int is_int;             /* int32 payload (max-pool indices) */
    int nhwc;               /* stored channels-last (every feature map inside a model) */
} TfTensorInfo;

typedef enum {
    TF_NODE_CONV, TF_NODE_LINEAR, TF_NODE_GROUPNORM, TF_NODE_SILU, TF_NODE_ADD, TF_NODE_BCAST_ADD,
    TF_NODE_CONCAT, TF_NODE_UPSAMPLE2, TF_NODE_AVGPOOL, TF_NODE_MAXPOOL, TF_NODE_ATTENTION,
    TF_NODE_TIMESTEP_EMBED, TF_NODE_EMBEDDING, TF_NODE_DROPOUT, TF_NODE_TO_NHWC, TF_NODE_TO_NCHW
} TfNodeKind;

typedef struct {
    TfNodeKind kind;
    int in[2];       /* tensor ids (-1 unused) */
    int out;         /* tensor id */
    int w, b;        /* parameter ids (-1 unused) */
    int aux[2];      /* tensor ids of saved buffers (-1 unused) */
    int acc[2];      /* planned: add into in[k]'s gradient (1) or overwrite it (0) */
    int ip[4];       /* small int arguments (groups, heads, kernel, stride, ...) */
    float fp[2];     /* float arguments (eps, scale, dropout p, ...) */
    TfConvShape conv;
    size_t scratch;  /* floats of scratch this node needs */
} TfNode;

typedef struct TfTape {
    const TfBackend *be;
    int batch;
    /* parameters */
    TfParamInfo *params;
    int n_params, cap_params;
    size_t n_param_floats;
    float *param, *grad;      /* arenas (param may be borrowed from another tape) */
    int owns_params;
    /* activations */
    TfTensorInfo *t;
    int n_t, cap_t;
    float *act, *act_grad;
    size_t act_floats, act_grad_floats;
    float *scratch;
    size_t scratch_floats;
    int32_t *labels;          /* [batch] conditioning labels (backend memory) */
    float *time;              /* [batch] flow time t (backend memory) */
    /* nodes */
    TfNode *nodes;
    int n_nodes, cap_nodes;
    int *zero_before_bwd;     /* gradient tensors no backward op writes first (rare) */
    int n_zero_before_bwd;
    /* named endpoints */
    int input, output, features; /* tensor ids (-1 if absent) */
    int input_needs_grad;
    int inference;            /* forward only: no gradient arenas (set before finish) */
    /* dropout keying, set by the caller before each forward */
    int training;
    uint64_t seed, step, sample0;
    /* optional per-node-kind timing (seconds; [kind][0]=forward, [1]=backward), or NULL */
    double (*profile)[2];
    double (*node_profile)[2]; /* optional per-node timing [n_nodes][2], or NULL */
    /* naming */
    char prefix[TF_NAME_MAX];
    int prefix_len[16], depth; /* prefix lengths before each push */
    int dropout_salt;
} TfTape;

/* ---- building ----------------------------------------------------------------------------- */
void tf_tape_init(TfTape *tp, const TfBackend *be, int batch);
/* Name scope: tf_tape_push(tp, "down.0") ... tf_tape_pop(tp). */
void tf_tape_push(TfTape *tp, const char *fmt, ...);
void tf_tape_pop(TfTape *tp);
int tf_tape_param(TfTape *tp, const char *name, int ndim, const int *shape, TfInitKind init, float arg);
int tf_tape_tensor(TfTape *tp, int C, int H, int W); /* a [batch, C, H, W] activation */

/* Layers: each adds one node and returns its output tensor id. `name` is the parameter
 * scope (params become name.weight / name.bias). */
int tf_conv(TfTape *tp, const char *name, int x, int cout, int k, int stride, int pad, int bias);
int tf_linear(TfTape *tp, const char *name, int x, int dout, int bias);
int tf_groupnorm(TfTape *tp, const char *name, int x, int groups, int silu);
int tf_silu(TfTape *tp, int x);
int tf_add(TfTape *tp, int a, int b);
int tf_bcast_add(TfTape *tp, int x, int v); /* x[B,C,H,W] + v[B,C] */
int tf_concat(TfTape *tp, int a, int b);
int tf_upsample2(TfTape *tp, int x);
int tf_avgpool(TfTape *tp, int x, int k, int s);
int tf_maxpool(TfTape *tp, int x, int k, int s);
int tf_attention(TfTape *tp, int qkv, int heads); /* qkv [B,3C,H,W] -> [B,C,H,W] */
int tf_timestep_embed(TfTape *tp, int dim, float scale, float max_period); /* from tp->time */
int tf_embedding(TfTape *tp, const char *name, int rows, int dim);       /* from tp->labels */
int tf_dropout(TfTape *tp, int x, float p);
/* Layout conversion at a model's boundary: the user's NCHW <-> the ops' channels-last.
 * Shapes stay logical [B, C, H, W]; `nhwc` marks how a tensor is stored. */
int tf_to_nhwc(TfTape *tp, int x);
int tf_to_nchw(TfTape *tp, int x);

/* Plan gradients and memory, allocate everything, initialise parameters from `seed`
 * (unless they are borrowed from `share`, another finished tape of the same architecture). */
void tf_tape_finish(TfTape *tp, uint64_t seed, const TfTape *share);
void tf_tape_free(TfTape *tp);

/* ---- running ------------------------------------------------------------------------------ */
void tf_tape_forward(TfTape *tp);
/* Needs dL/d(output) in tf_tape_grad(tp, tp->output); ADDS parameter gradients into tp->grad. */
void tf_tape_backward(TfTape *tp);
void tf_tape_zero_grad(TfTape *tp);

static inline float *tf_tape_data(const TfTape *tp, int id) { return tp->act + tp->t[id].offset; }
static inline float *tf_tape_grad(const TfTape *tp, int id) {
    return tp->t[id].goffset == (size_t)-1 ? NULL : tp->act_grad + tp->t[id].goffset;
}
int tf_tape_find_param(const TfTape *tp, const char *name); /* -1 if absent */
/* (Re)initialise all parameters deterministically from seed (PyTorch default init rules). */
void tf_tape_init_params(TfTape *tp, uint64_t seed);
size_t tf_tape_bytes(const TfTape *tp); /* all arenas together */
#define TF_NODE_KINDS 16
const char *tf_node_kind_name(TfNodeKind k);
/* Print the profile table (if profiling was enabled by pointing tp->profile at a
 * double[TF_NODE_KINDS][2] array) to stdout. */
void tf_tape_print_profile(const TfTape *tp);

#endif
