/* conv2d_dnnl.c - convolution forward, backward-data and backward-weights as
 * oneDNN primitives, created once per conv node at model build.
 *
 * Activations are NHWC in tinyflow's arenas and are used in place; only the
 * weights (kept in PyTorch's [Co, Ci, K, K] layout in the parameter arena) are
 * reordered into the layout each primitive prefers, and the weight gradient is
 * reordered back WITH a sum post-op, so it accumulates into the gradient arena.
 * Every primitive runs with a user scratchpad carved from the tape's scratch
 * buffer: nothing is allocated inside a step. Outputs oneDNN cannot accumulate
 * (input and bias gradients) go through scratch and are added.
 * Must not know about models or the tape. */
#include "ops/conv2d_dnnl.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#if defined(TF_GEMM_DNNL)
#include <oneapi/dnnl/dnnl.h>

#define DN(call)                                                                        \
    do {                                                                                \
        dnnl_status_t st_ = (call);                                                     \
        if (st_ != dnnl_success) tf_die("oneDNN call failed (status %d): %s", (int)st_, #call); \
    } while (0)

typedef struct {
    dnnl_primitive_t fwd, bwd_d, bwd_w, r_w_fwd, r_w_bwd, r_dw;
    dnnl_memory_t src, dst, bias, w_user, w_fwd, w_bwd, diff_src, diff_dst, dw_user, dw_prim, db, pad;
    size_t off_w_fwd, off_w_bwd, off_dw, off_db, off_dx, off_pad; /* floats into scratch */
    char name[96];
} DnnlConv;

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;

static void engine_once(void) {
    if (g_engine) return;
    DN(dnnl_engine_create(&g_engine, dnnl_cpu, 0));
    DN(dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags));
}

static size_t floats_of(const dnnl_memory_desc_t *md) { return (dnnl_memory_desc_get_size(md) + 63) / 64 * 16; }

static dnnl_memory_t mem(const dnnl_memory_desc_t *md) {
    dnnl_memory_t m;
    DN(dnnl_memory_create(&m, md, g_engine, DNNL_MEMORY_NONE));
    return m;
}

static const dnnl_memory_desc_t *q(dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static dnnl_primitive_t make(dnnl_primitive_desc_t pd) {
    dnnl_primitive_t p;
    DN(dnnl_primitive_create(&p, pd));
    return p;
}

static dnnl_primitive_attr_t user_scratch_attr(int sum) {
    dnnl_primitive_attr_t a;
    DN(dnnl_primitive_attr_create(&a));
    DN(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user));
    if (sum) {
        dnnl_post_ops_t po;
        DN(dnnl_post_ops_create(&po));
        DN(dnnl_post_ops_append_sum(po, 1.0f));
        DN(dnnl_primitive_attr_set_post_ops(a, po));
        dnnl_post_ops_destroy(po);
    }
    return a;
}

/* A reorder src_md -> dst_md (NULL when both are the same and no sum is wanted). */
static dnnl_primitive_t reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, int sum,
                                size_t *pad_floats) {
    if (!sum && dnnl_memory_desc_equal(from, to)) return NULL;
    dnnl_primitive_attr_t a = user_scratch_attr(sum);
    dnnl_primitive_desc_t pd;
    DN(dnnl_reorder_primitive_desc_create(&pd, from, g_engine, to, g_engine, a));
    size_t sp = floats_of(q(pd, dnnl_query_scratchpad_md));
    if (sp > *pad_floats) *pad_floats = sp;
    dnnl_primitive_t p = make(pd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(a);
    return p;
}

static const char *impl_of(dnnl_primitive_desc_t pd) {
    const char *s = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    return s;
}

int tf_conv2d_dnnl_plan(TfConvShape *s, size_t *scratch_floats) {
    engine_once();
    DnnlConv *c = tf_calloc(1, sizeof *c);
    dnnl_dims_t sd = {s->B, s->Ci, s->H, s->W}, wd = {s->Co, s->Ci, s->K, s->K}, bd = {s->Co},
                dd = {s->B, s->Co, s->Ho, s->Wo}, st = {s->stride, s->stride}, pl = {s->pad, s->pad};
    /* Right padding so that the output size matches (PyTorch semantics). */
    dnnl_dims_t pr = {(s->Ho - 1) * s->stride + s->K - s->H - s->pad, (s->Wo - 1) * s->stride + s->K - s->W - s->pad};
    dnnl_memory_desc_t smd, wany, wuser, bmd, dmd;
    DN(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&wuser, 4, wd, dnnl_f32, dnnl_oihw));
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));
    dnnl_primitive_attr_t a = user_scratch_attr(0);
    size_t pad = 0;
    /* forward */
    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &smd, &wany, &bmd, &dmd, st, pl, pr));
    dnnl_primitive_desc_t fpd, dpd, wpd;
    DN(dnnl_primitive_desc_create(&fpd, &fd, a, g_engine, NULL));
    DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &smd, &wany, &dmd, st, pl, pr));
    DN(dnnl_primitive_desc_create(&dpd, &bdd, a, g_engine, fpd));
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &smd, &wany, &bmd, &dmd, st, pl, pr));
    DN(dnnl_primitive_desc_create(&wpd, &bwd, a, g_engine, fpd));
    /* The primitives must use our NHWC activations as they are. */
    if (!dnnl_memory_desc_equal(q(fpd, dnnl_query_src_md), &smd) || !dnnl_memory_desc_equal(q(fpd, dnnl_query_dst_md), &dmd) ||
        !dnnl_memory_desc_equal(q(dpd, dnnl_query_diff_src_md), &smd) || !dnnl_memory_desc_equal(q(dpd, dnnl_query_diff_dst_md), &dmd) ||
        !dnnl_memory_desc_equal(q(wpd, dnnl_query_src_md), &smd) || !dnnl_memory_desc_equal(q(wpd, dnnl_query_diff_dst_md), &dmd))
        tf_die("oneDNN chose a non-NHWC activation layout for a %dx%d conv (%d->%d)", s->K, s->K, s->Ci, s->Co);
    const dnnl_memory_desc_t *wf = q(fpd, dnnl_query_weights_md), *wb = q(dpd, dnnl_query_weights_md),
                             *dwp = q(wpd, dnnl_query_diff_weights_md);
    c->fwd = make(fpd);
    c->bwd_d = make(dpd);
    c->bwd_w = make(wpd);
    c->r_w_fwd = reorder(&wuser, wf, 0, &pad);
    c->r_w_bwd = reorder(&wuser, wb, 0, &pad);
    c->r_dw = reorder(dwp, &wuser, 1, &pad);
    c->src = mem(&smd); c->dst = mem(&dmd); c->bias = mem(&bmd); c->w_user = mem(&wuser);
    c->w_fwd = mem(wf); c->w_bwd = mem(wb); c->diff_src = mem(&smd); c->diff_dst = mem(&dmd);
    c->dw_user = mem(&wuser); c->dw_prim = mem(dwp); c->db = mem(&bmd);
    size_t sp_f = floats_of(q(fpd, dnnl_query_scratchpad_md)), sp_d = floats_of(q(dpd, dnnl_query_scratchpad_md)),
           sp_w = floats_of(q(wpd, dnnl_query_scratchpad_md));
    if (sp_f > pad) pad = sp_f;
    if (sp_d > pad) pad = sp_d;
    if (sp_w > pad) pad = sp_w;
    /* scratch layout: [w_fwd | w_bwd | dw_prim | db | dx (for acc) | scratchpad] */
    size_t off = 0;
    c->off_w_fwd = off; off += floats_of(wf);
    c->off_w_bwd = off; off += floats_of(wb);
    c->off_dw = off; off += floats_of(dwp);
    c->off_db = off; off += ((size_t)s->Co + 15) / 16 * 16;
    c->off_dx = off; off += ((size_t)s->B * s->H * s->W * s->Ci + 15) / 16 * 16;
    c->off_pad = off; off += pad;
    dnnl_memory_desc_t padmd;
    dnnl_dims_t pdims = {(dnnl_dim_t)(pad ? pad * 4 : 1)};
    DN(dnnl_memory_desc_init_by_tag(&padmd, 1, pdims, dnnl_u8, dnnl_x));
    c->pad = mem(&padmd);
    snprintf(c->name, sizeof c->name, "onednn %s / %s / %s", impl_of(fpd), impl_of(dpd), impl_of(wpd));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_attr_destroy(a);
    s->impl = c;
    *scratch_floats = off;
    return 1;
}

void tf_conv2d_dnnl_unplan(TfConvShape *s) {
    DnnlConv *c = s->impl;
    if (!c) return;
    dnnl_primitive_t ps[6] = {c->fwd, c->bwd_d, c->bwd_w, c->r_w_fwd, c->r_w_bwd, c->r_dw};
    for (int i = 0; i < 6; i++) if (ps[i]) dnnl_primitive_destroy(ps[i]);
    dnnl_memory_t ms[12] = {c->src, c->dst, c->bias, c->w_user, c->w_fwd, c->w_bwd, c->diff_src, c->diff_dst,
                            c->dw_user, c->dw_prim, c->db, c->pad};
    for (int i = 0; i < 12; i++) if (ms[i]) dnnl_memory_destroy(ms[i]);
    free(c);
    s->impl = NULL;
}

const char *tf_conv2d_dnnl_impl_name(const TfConvShape *s) { return ((const DnnlConv *)s->impl)->name; }

static void set(dnnl_memory_t m, const void *p) { DN(dnnl_memory_set_data_handle(m, (void *)p)); }

static void run(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args) {
    DN(dnnl_primitive_execute(p, g_stream, n, args));
}

/* Run a (possibly absent) reorder from -> to. */
static void run_reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to, dnnl_memory_t pad) {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}, {DNNL_ARG_SCRATCHPAD, pad}};
    run(r, 3, a);
}

void tf_conv2d_dnnl_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                        float *scratch) {
    DnnlConv *c = s->impl;
    set(c->pad, scratch + c->off_pad);
    set(c->w_user, w);
    if (c->r_w_fwd) { set(c->w_fwd, scratch + c->off_w_fwd); run_reorder(c->r_w_fwd, c->w_user, c->w_fwd, c->pad); }
    else set(c->w_fwd, w);
    set(c->src, x);
    set(c->dst, y);
    float *zero_bias = NULL;
    if (b) set(c->bias, b);
    else { zero_bias = scratch + c->off_db; memset(zero_bias, 0, sizeof(float) * s->Co); set(c->bias, zero_bias); }
    dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->w_fwd}, {DNNL_ARG_BIAS, c->bias},
                            {DNNL_ARG_DST, c->dst}, {DNNL_ARG_SCRATCHPAD, c->pad}};
    run(c->fwd, 5, a);
}

void tf_conv2d_dnnl_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                        int acc, float *dw, float *db, float *scratch) {
    DnnlConv *c = s->impl;
    set(c->pad, scratch + c->off_pad);
    set(c->diff_dst, dy);
    /* weights (and bias) gradient: into scratch, then accumulated */
    set(c->src, x);
    set(c->dw_prim, scratch + c->off_dw);
    set(c->db, scratch + c->off_db);
    dnnl_exec_arg_t aw[5] = {{DNNL_ARG_SRC, c->src}, {DNNL_ARG_DIFF_DST, c->diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, c->dw_prim},
                             {DNNL_ARG_DIFF_BIAS, c->db}, {DNNL_ARG_SCRATCHPAD, c->pad}};
    run(c->bwd_w, 5, aw);
    set(c->dw_user, dw);
    run_reorder(c->r_dw, c->dw_prim, c->dw_user, c->pad); /* dw += reorder(dw_prim) */
    if (db) {
        const float *g = scratch + c->off_db;
        for (int o = 0; o < s->Co; o++) db[o] += g[o];
    }
    if (!dx) return;
    set(c->w_user, w);
    if (c->r_w_bwd) { set(c->w_bwd, scratch + c->off_w_bwd); run_reorder(c->r_w_bwd, c->w_user, c->w_bwd, c->pad); }
    else set(c->w_bwd, w);
    float *target = acc ? scratch + c->off_dx : dx;
    set(c->diff_src, target);
    dnnl_exec_arg_t ad[4] = {{DNNL_ARG_DIFF_SRC, c->diff_src}, {DNNL_ARG_WEIGHTS, c->w_bwd},
                             {DNNL_ARG_DIFF_DST, c->diff_dst}, {DNNL_ARG_SCRATCHPAD, c->pad}};
    run(c->bwd_d, 4, ad);
    if (acc) {
        size_t n = (size_t)s->B * s->H * s->W * s->Ci;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) dx[i] += target[i];
    }
}

#else /* no oneDNN: conv2d.c uses im2col + GEMM */

int tf_conv2d_dnnl_plan(TfConvShape *s, size_t *scratch_floats) { (void)s; (void)scratch_floats; return 0; }
void tf_conv2d_dnnl_unplan(TfConvShape *s) { (void)s; }
const char *tf_conv2d_dnnl_impl_name(const TfConvShape *s) { (void)s; return "none"; }
void tf_conv2d_dnnl_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y, float *scratch) {
    (void)s; (void)x; (void)w; (void)b; (void)y; (void)scratch;
    tf_die("oneDNN convolution called in a build without oneDNN");
}
void tf_conv2d_dnnl_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx, int acc,
                        float *dw, float *db, float *scratch) {
    (void)s; (void)x; (void)w; (void)dy; (void)dx; (void)acc; (void)dw; (void)db; (void)scratch;
    tf_die("oneDNN convolution called in a build without oneDNN");
}
#endif
