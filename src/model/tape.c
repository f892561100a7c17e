/* tape.c - building, planning and running a tape (see tape.h).
 * Knows the node kinds and the backend's op table; knows no architecture. */
#include "model/tape.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"

#define NO_GRAD ((size_t)-1)

/* ---- building ----------------------------------------------------------------------------- */

void tf_tape_init(TfTape *tp, const TfBackend *be, int batch) {
    memset(tp, 0, sizeof *tp);
    if (batch <= 0) tf_die_usage("use a positive batch size", "model batch size must be positive, got %d", batch);
    tp->be = be;
    tp->batch = batch;
    tp->input = tp->output = tp->features = -1;
}

void tf_tape_push(TfTape *tp, const char *fmt, ...) {
    char part[TF_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    size_t len = strlen(tp->prefix);
    if (len + strlen(part) + 2 >= TF_NAME_MAX) tf_die("parameter name too long: %s.%s", tp->prefix, part);
    if (tp->depth == 16) tf_die("name scopes nested too deeply at %s", tp->prefix);
    tp->prefix_len[tp->depth++] = (int)len;
    if (len) tp->prefix[len++] = '.';
    strcpy(tp->prefix + len, part);
}

void tf_tape_pop(TfTape *tp) {
    TF_ASSERT(tp->depth > 0);
    tp->prefix[tp->prefix_len[--tp->depth]] = '\0';
}

#define GROW(arr, n, cap)                                                                  \
    do {                                                                                   \
        if ((n) == (cap)) {                                                                \
            (cap) = (cap) ? 2 * (cap) : 64;                                                \
            void *np_ = realloc((arr), sizeof(*(arr)) * (size_t)(cap));                    \
            if (!np_) tf_die("out of memory while building the model");                    \
            (arr) = np_;                                                                   \
        }                                                                                  \
    } while (0)

int tf_tape_param(TfTape *tp, const char *name, int ndim, const int *shape, TfInitKind init, float arg) {
    GROW(tp->params, tp->n_params, tp->cap_params);
    TfParamInfo *p = &tp->params[tp->n_params];
    memset(p, 0, sizeof *p);
    int n = tp->prefix[0] ? snprintf(p->name, TF_NAME_MAX, "%s.%s", tp->prefix, name)
                          : snprintf(p->name, TF_NAME_MAX, "%s", name);
    if (n >= TF_NAME_MAX) tf_die("parameter name too long: %s.%s", tp->prefix, name);
    if (tf_tape_find_param(tp, p->name) >= 0) tf_die("duplicate parameter name %s (a bug in the model builder)", p->name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) { p->shape[i] = shape[i]; p->numel *= (size_t)shape[i]; }
    /* 16-float (64-byte) alignment of every tensor keeps vector loads aligned. */
    p->offset = tp->n_param_floats;
    tp->n_param_floats += (p->numel + 15) & ~(size_t)15;
    p->init = init;
    p->init_arg = arg;
    return tp->n_params++;
}

static int new_tensor(TfTape *tp, const int shape[4], size_t numel, int is_int) {
    GROW(tp->t, tp->n_t, tp->cap_t);
    TfTensorInfo *t = &tp->t[tp->n_t];
    memset(t, 0, sizeof *t);
    memcpy(t->shape, shape, sizeof t->shape);
    t->numel = numel;
    t->is_int = is_int;
    t->goffset = NO_GRAD;
    return tp->n_t++;
}

int tf_tape_tensor(TfTape *tp, int C, int H, int W) {
    int s[4] = {tp->batch, C, H, W};
    int id = new_tensor(tp, s, (size_t)tp->batch * C * H * W, 0);
    tp->t[id].nhwc = 1; /* feature maps are channels-last unless a boundary node says otherwise */
    return id;
}

/* Ops on feature maps need their inputs channels-last. Vectors ([B, D, 1, 1]) are both. */
static void need_nhwc(const TfTape *tp, int x, const char *what) {
    if (!tp->t[x].nhwc && (tp->t[x].shape[2] > 1 || tp->t[x].shape[3] > 1))
        tf_die("%s needs a channels-last input; insert tf_to_nhwc() at the model input", what);
}

static int aux_tensor(TfTape *tp, size_t numel, int is_int) {
    int s[4] = {(int)numel, 1, 1, 1};
    return new_tensor(tp, s, numel, is_int);
}

static TfNode *new_node(TfTape *tp, TfNodeKind kind, int in0, int in1, int out) {
    GROW(tp->nodes, tp->n_nodes, tp->cap_nodes);
    TfNode *n = &tp->nodes[tp->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->in[0] = in0; n->in[1] = in1; n->out = out;
    n->w = n->b = -1;
    n->aux[0] = n->aux[1] = -1;
    return n;
}

#define C_(id) (tp->t[id].shape[1])
#define H_(id) (tp->t[id].shape[2])
#define W_(id) (tp->t[id].shape[3])
#define D_(id) (tp->t[id].shape[1] * tp->t[id].shape[2] * tp->t[id].shape[3])

int tf_conv(TfTape *tp, const char *name, int x, int cout, int k, int stride, int pad, int bias) {
    need_nhwc(tp, x, "conv2d");
    TfConvShape cs = tf_conv_shape(tp->batch, C_(x), H_(x), W_(x), cout, k, stride, pad);
    int y = tf_tape_tensor(tp, cout, cs.Ho, cs.Wo);
    TfNode *n = new_node(tp, TF_NODE_CONV, x, -1, y);
    n->conv = cs;
    n->scratch = tp->be->ops.conv2d_plan(&n->conv);
    int fan_in = C_(x) * k * k;
    tf_tape_push(tp, "%s", name);
    int ws[4] = {cout, C_(x), k, k}, bs[1] = {cout};
    n = &tp->nodes[tp->n_nodes - 1];
    n->w = tf_tape_param(tp, "weight", 4, ws, TF_INIT_FANIN_UNIFORM, (float)fan_in);
    if (bias) tp->nodes[tp->n_nodes - 1].b = tf_tape_param(tp, "bias", 1, bs, TF_INIT_FANIN_UNIFORM, (float)fan_in);
    tf_tape_pop(tp);
    return y;
}

int tf_linear(TfTape *tp, const char *name, int x, int dout, int bias) {
    int din = D_(x);
    int y = tf_tape_tensor(tp, dout, 1, 1);
    new_node(tp, TF_NODE_LINEAR, x, -1, y);
    tf_tape_push(tp, "%s", name);
    int ws[2] = {dout, din}, bs[1] = {dout};
    int w = tf_tape_param(tp, "weight", 2, ws, TF_INIT_FANIN_UNIFORM, (float)din);
    int b = bias ? tf_tape_param(tp, "bias", 1, bs, TF_INIT_FANIN_UNIFORM, (float)din) : -1;
    tf_tape_pop(tp);
    tp->nodes[tp->n_nodes - 1].w = w;
    tp->nodes[tp->n_nodes - 1].b = b;
    return y;
}

int tf_groupnorm(TfTape *tp, const char *name, int x, int groups, int silu) {
    if (groups <= 0 || C_(x) % groups)
        tf_die_usage("choose model.groups so that it divides every channel count (base_ch * ch_mult)",
                     "group norm %s%s%s: %d channels are not divisible into %d groups", tp->prefix,
                     tp->prefix[0] ? "." : "", name, C_(x), groups);
    if (C_(x) > TF_GN_MAX_CHANNELS)
        tf_die_usage("use fewer channels", "group norm %s: %d channels exceed %d", name, C_(x), TF_GN_MAX_CHANNELS);
    need_nhwc(tp, x, "group norm");
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    int m = aux_tensor(tp, (size_t)tp->batch * groups, 0), r = aux_tensor(tp, (size_t)tp->batch * groups, 0);
    TfNode *n = new_node(tp, TF_NODE_GROUPNORM, x, -1, y);
    n->scratch = tf_groupnorm_scratch(tp->batch, C_(x));
    n->aux[0] = m; n->aux[1] = r;
    n->ip[0] = groups; n->ip[1] = silu;
    n->fp[0] = 1e-5f;
    tf_tape_push(tp, "%s", name);
    int s[1] = {C_(x)};
    int w = tf_tape_param(tp, "weight", 1, s, TF_INIT_ONE, 0), b = tf_tape_param(tp, "bias", 1, s, TF_INIT_ZERO, 0);
    tf_tape_pop(tp);
    tp->nodes[tp->n_nodes - 1].w = w;
    tp->nodes[tp->n_nodes - 1].b = b;
    return y;
}

int tf_silu(TfTape *tp, int x) {
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    new_node(tp, TF_NODE_SILU, x, -1, y);
    return y;
}

int tf_add(TfTape *tp, int a, int b) {
    if (tp->t[a].numel != tp->t[b].numel)
        tf_die("add: shapes differ (%d,%d,%d vs %d,%d,%d)", C_(a), H_(a), W_(a), C_(b), H_(b), W_(b));
    int y = tf_tape_tensor(tp, C_(a), H_(a), W_(a));
    new_node(tp, TF_NODE_ADD, a, b, y);
    return y;
}

int tf_bcast_add(TfTape *tp, int x, int v) {
    if (D_(v) != C_(x)) tf_die("broadcast add: vector of %d for %d channels", D_(v), C_(x));
    if (C_(x) > TF_GN_MAX_CHANNELS) tf_die_usage("use fewer channels", "broadcast add: %d channels exceed %d", C_(x), TF_GN_MAX_CHANNELS);
    need_nhwc(tp, x, "broadcast add");
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    new_node(tp, TF_NODE_BCAST_ADD, x, v, y);
    return y;
}

int tf_concat(TfTape *tp, int a, int b) {
    need_nhwc(tp, a, "concat");
    need_nhwc(tp, b, "concat");
    if (H_(a) != H_(b) || W_(a) != W_(b)) tf_die("concat: spatial sizes differ (%dx%d vs %dx%d)", H_(a), W_(a), H_(b), W_(b));
    int y = tf_tape_tensor(tp, C_(a) + C_(b), H_(a), W_(a));
    new_node(tp, TF_NODE_CONCAT, a, b, y);
    return y;
}

int tf_upsample2(TfTape *tp, int x) {
    need_nhwc(tp, x, "upsample");
    int y = tf_tape_tensor(tp, C_(x), 2 * H_(x), 2 * W_(x));
    new_node(tp, TF_NODE_UPSAMPLE2, x, -1, y);
    return y;
}

static int pool(TfTape *tp, TfNodeKind kind, int x, int k, int s) {
    need_nhwc(tp, x, "pooling");
    if (k <= 0 || s <= 0 || k > H_(x) || k > W_(x))
        tf_die_usage("check the classifier configuration", "pooling window %d stride %d does not fit %dx%d", k, s, H_(x), W_(x));
    int y = tf_tape_tensor(tp, C_(x), (H_(x) - k) / s + 1, (W_(x) - k) / s + 1);
    TfNode *n = new_node(tp, kind, x, -1, y);
    n->ip[0] = k; n->ip[1] = s;
    if (kind == TF_NODE_MAXPOOL) tp->nodes[tp->n_nodes - 1].aux[0] = aux_tensor(tp, tp->t[y].numel, 1);
    return y;
}
int tf_avgpool(TfTape *tp, int x, int k, int s) { return pool(tp, TF_NODE_AVGPOOL, x, k, s); }
int tf_maxpool(TfTape *tp, int x, int k, int s) { return pool(tp, TF_NODE_MAXPOOL, x, k, s); }

int tf_attention(TfTape *tp, int qkv, int heads) {
    need_nhwc(tp, qkv, "attention");
    if (C_(qkv) % 3) tf_die("attention: qkv has %d channels, not a multiple of 3", C_(qkv));
    int C = C_(qkv) / 3, N = H_(qkv) * W_(qkv);
    if (heads <= 0 || C % heads)
        tf_die_usage("choose model.heads so that it divides the channel count at every attention resolution",
                     "attention at %dx%d: %d channels are not divisible into %d heads", H_(qkv), W_(qkv), C, heads);
    int y = tf_tape_tensor(tp, C, H_(qkv), W_(qkv));
    int P = aux_tensor(tp, (size_t)tp->batch * heads * N * N, 0);
    TfNode *n = new_node(tp, TF_NODE_ATTENTION, qkv, -1, y);
    n->aux[0] = P;
    n->ip[0] = heads;
    n->scratch = tf_attention_scratch(N, tp->be->threads > 0 ? tp->be->threads : 1);
    return y;
}

int tf_timestep_embed(TfTape *tp, int dim, float scale, float max_period) {
    int y = tf_tape_tensor(tp, dim, 1, 1);
    TfNode *n = new_node(tp, TF_NODE_TIMESTEP_EMBED, -1, -1, y);
    n->fp[0] = scale; n->fp[1] = max_period;
    return y;
}

int tf_embedding(TfTape *tp, const char *name, int rows, int dim) {
    int y = tf_tape_tensor(tp, dim, 1, 1);
    new_node(tp, TF_NODE_EMBEDDING, -1, -1, y);
    tf_tape_push(tp, "%s", name);
    int s[2] = {rows, dim};
    int w = tf_tape_param(tp, "weight", 2, s, TF_INIT_NORMAL, 1.0f);
    tf_tape_pop(tp);
    tp->nodes[tp->n_nodes - 1].w = w;
    tp->nodes[tp->n_nodes - 1].ip[0] = rows;
    return y;
}

int tf_dropout(TfTape *tp, int x, float p) {
    if (!(p >= 0.0f && p < 1.0f)) tf_die_usage("model.dropout must be in [0, 1)", "dropout probability %g is outside [0, 1)", p);
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    TfNode *n = new_node(tp, TF_NODE_DROPOUT, x, -1, y);
    n->fp[0] = p;
    n->ip[0] = ++tp->dropout_salt;
    return y;
}

int tf_to_nhwc(TfTape *tp, int x) {
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    new_node(tp, TF_NODE_TO_NHWC, x, -1, y);
    return y;
}

int tf_to_nchw(TfTape *tp, int x) {
    int y = tf_tape_tensor(tp, C_(x), H_(x), W_(x));
    tp->t[y].nhwc = 0;
    new_node(tp, TF_NODE_TO_NCHW, x, -1, y);
    return y;
}

int tf_tape_find_param(const TfTape *tp, const char *name) {
    for (int i = 0; i < tp->n_params; i++)
        if (!strcmp(tp->params[i].name, name)) return i;
    return -1;
}
