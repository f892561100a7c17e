/* test_gpu_ops.c - the GEMM-based CUDA ops (conv2d, linear, group norm, attention), forward
 * and backward, against the CPU ops on random inputs: outputs, input gradients (overwrite
 * with a NaN-poisoned destination, and accumulate), parameter gradients (accumulated onto
 * random prior values), and the cases the model uses (no bias, no dx, 1x1, strided, the
 * im2col chunking and the attention chunking).
 * Tolerance (norm-wise, see gpu_test.h): RT_GEMM = 2e-5 of the largest CPU magnitude for
 * everything here (fp32 sums of at most a few thousand terms, in another order); with TF32
 * on, a convolution must still agree to RT_TF32 = 5e-3. Exit 77 when no GPU is visible. */
#include <omp.h>

#include "gpu_test.h"

#define RT_GEMM 2e-5
#define RT_TF32 5e-3

static void conv_case(int B, int Ci, int H, int W, int Co, int K, int S, int P, int bias, int acc, int want_dx,
                      const char *im2col_mb, double rtol) {
    TfConvShape sc = tf_conv_shape(B, Ci, H, W, Co, K, S, P), sg = sc;
    float *scr_c = hnew(tf_conv2d_plan(&sc));
    if (im2col_mb) setenv("TF_CUDA_IM2COL_MB", im2col_mb, 1);
    float *scr_g = dnew(tf_conv2d_plan_cuda(&sg));
    unsetenv("TF_CUDA_IM2COL_MB");
    const size_t nx = (size_t)B * H * W * Ci, nw = (size_t)Co * Ci * K * K, ny = (size_t)B * sc.Ho * sc.Wo * Co;
    float *x = hrand(nx, 1, 1.0f), *w = hrand(nw, 2, 0.3f), *b = bias ? hrand((size_t)Co, 3, 0.5f) : NULL;
    float *dy = hrand(ny, 4, 1.0f), *dx = hrand(nx, 5, 1.0f), *dw = hrand(nw, 6, 1.0f), *db = hrand((size_t)Co, 7, 1.0f);
    float *y = hnew(ny);
    float *gx = dcopy(x, nx), *gw = dcopy(w, nw), *gb = bias ? dcopy(b, (size_t)Co) : NULL, *gdy = dcopy(dy, ny);
    float *gy = dnew(ny), *gdx = dcopy(dx, nx), *gdw = dcopy(dw, nw), *gdb = dcopy(db, (size_t)Co);
    if (!acc) dpoison(gdx, nx);
    dpoison(gy, ny);
    tf_conv2d_fwd(&sc, x, w, b, y, scr_c);
    tf_conv2d_bwd(&sc, x, w, dy, want_dx ? dx : NULL, acc, dw, bias ? db : NULL, scr_c);
    tf_conv2d_fwd_cuda(&sg, gx, gw, gb, gy, scr_g);
    tf_conv2d_bwd_cuda(&sg, gx, gw, gdy, want_dx ? gdx : NULL, acc, gdw, bias ? gdb : NULL, scr_g);
    char name[160];
    snprintf(name, sizeof name, "conv%dx%d s%d p%d %dx%dx%d->%d B%d%s%s%s%s", K, K, S, P, H, W, Ci, Co, B, bias ? "" : " nobias",
             acc ? " acc" : "", want_dx ? "" : " nodx", im2col_mb ? " chunked" : "");
    char what[200];
    snprintf(what, sizeof what, "%s y", name);
    cmp_dev(what, gy, y, ny, rtol);
    if (want_dx) { snprintf(what, sizeof what, "%s dx", name); cmp_dev(what, gdx, dx, nx, rtol); }
    snprintf(what, sizeof what, "%s dw", name);
    cmp_dev(what, gdw, dw, nw, rtol);
    if (bias) { snprintf(what, sizeof what, "%s db", name); cmp_dev(what, gdb, db, (size_t)Co, rtol); }
    printf("    (gpu impl: %s, cpu impl: %s)\n", tf_conv2d_impl_name_cuda(&sg), tf_conv2d_impl_name(&sc));
    tf_conv2d_unplan(&sc);
    tf_conv2d_unplan_cuda(&sg);
    free(scr_c); free(x); free(w); free(b); free(dy); free(dx); free(dw); free(db); free(y);
    dfree(scr_g); dfree(gx); dfree(gw); dfree(gb); dfree(gdy); dfree(gy); dfree(gdx); dfree(gdw); dfree(gdb);
}

static void test_conv(void) {
    conv_case(3, 2, 7, 6, 4, 3, 1, 1, 1, 0, 1, NULL, RT_GEMM);
    conv_case(3, 3, 8, 8, 2, 3, 2, 1, 1, 1, 1, NULL, RT_GEMM);
    conv_case(2, 4, 5, 5, 3, 1, 1, 0, 1, 0, 1, NULL, RT_GEMM);
    conv_case(2, 2, 9, 7, 3, 5, 1, 2, 0, 1, 1, NULL, RT_GEMM);
    conv_case(3, 2, 7, 7, 2, 3, 2, 0, 1, 0, 1, NULL, RT_GEMM);
    conv_case(1, 3, 6, 6, 2, 1, 2, 0, 1, 1, 1, NULL, RT_GEMM);
    /* model-sized: the stem (no dx), a 3x3 block conv, a strided downsample, a 1x1 skip */
    conv_case(4, 3, 32, 32, 64, 3, 1, 1, 1, 0, 0, NULL, RT_GEMM);
    conv_case(4, 64, 16, 16, 128, 3, 1, 1, 1, 0, 1, NULL, RT_GEMM);
    conv_case(4, 128, 16, 16, 128, 3, 2, 1, 1, 1, 1, NULL, RT_GEMM);
    conv_case(4, 192, 8, 8, 128, 1, 1, 0, 1, 1, 1, NULL, RT_GEMM);
    /* im2col in chunks: 1 MiB of columns holds 3 samples here, so 8 samples take 3 GEMMs */
    conv_case(8, 32, 16, 16, 24, 3, 1, 1, 1, 1, 1, "1", RT_GEMM);
    /* TF32 tensor cores: same answer to TF32's precision, then back to exact fp32 */
    tf_cuda_set_tf32(1);
    conv_case(4, 64, 16, 16, 64, 3, 1, 1, 1, 0, 1, NULL, RT_TF32);
    tf_cuda_set_tf32(0);
    CHECK(tf_cuda_tf32() == 0);
}

static void linear_case(int B, int Di, int Do, int bias, int acc, int want_dx) {
    const size_t nx = (size_t)B * Di, nw = (size_t)Do * Di, ny = (size_t)B * Do;
    float *x = hrand(nx, 11, 1.0f), *w = hrand(nw, 12, 0.5f), *b = hrand((size_t)Do, 13, 0.5f), *dy = hrand(ny, 14, 1.0f);
    float *dx = hrand(nx, 15, 1.0f), *dw = hrand(nw, 16, 1.0f), *db = hrand((size_t)Do, 17, 1.0f), *y = hnew(ny);
    float *gx = dcopy(x, nx), *gw = dcopy(w, nw), *gb = dcopy(b, (size_t)Do), *gdy = dcopy(dy, ny);
    float *gy = dnew(ny), *gdx = dcopy(dx, nx), *gdw = dcopy(dw, nw), *gdb = dcopy(db, (size_t)Do);
    if (!acc) dpoison(gdx, nx);
    dpoison(gy, ny);
    tf_linear_fwd(B, Di, Do, x, w, bias ? b : NULL, y);
    tf_linear_bwd(B, Di, Do, x, w, dy, want_dx ? dx : NULL, acc, dw, bias ? db : NULL);
    tf_linear_fwd_cuda(B, Di, Do, gx, gw, bias ? gb : NULL, gy);
    tf_linear_bwd_cuda(B, Di, Do, gx, gw, gdy, want_dx ? gdx : NULL, acc, gdw, bias ? gdb : NULL);
    char n[96], what[140];
    snprintf(n, sizeof n, "linear %dx%d->%d%s%s%s", B, Di, Do, bias ? "" : " nobias", acc ? " acc" : "", want_dx ? "" : " nodx");
    snprintf(what, sizeof what, "%s y", n); cmp_dev(what, gy, y, ny, RT_GEMM);
    if (want_dx) { snprintf(what, sizeof what, "%s dx", n); cmp_dev(what, gdx, dx, nx, RT_GEMM); }
    snprintf(what, sizeof what, "%s dw", n); cmp_dev(what, gdw, dw, nw, RT_GEMM);
    if (bias) { snprintf(what, sizeof what, "%s db", n); cmp_dev(what, gdb, db, (size_t)Do, RT_GEMM); }
    free(x); free(w); free(b); free(dy); free(dx); free(dw); free(db); free(y);
    dfree(gx); dfree(gw); dfree(gb); dfree(gdy); dfree(gy); dfree(gdx); dfree(gdw); dfree(gdb);
}

static void gn_case(int B, int C, int N, int G, int silu, int acc, int want_dx) {
    const size_t n = (size_t)B * N * C;
    float *x = hrand(n, 21, 2.0f), *g = hrand((size_t)C, 22, 1.0f), *be = hrand((size_t)C, 23, 1.0f);
    for (size_t i = 0; i < n; i++) x[i] += 0.5f; /* a non-zero mean */
    float *dy = hrand(n, 24, 1.0f), *dx = hrand(n, 25, 1.0f), *dg = hrand((size_t)C, 26, 1.0f), *db = hrand((size_t)C, 27, 1.0f);
    float *y = hnew(n), *mu = hnew((size_t)B * G), *rs = hnew((size_t)B * G), *scr = hnew(tf_groupnorm_scratch(B, C));
    float *gx = dcopy(x, n), *gg = dcopy(g, (size_t)C), *gbe = dcopy(be, (size_t)C), *gdy = dcopy(dy, n);
    float *gy = dnew(n), *gmu = dnew((size_t)B * G), *grs = dnew((size_t)B * G), *gscr = dnew(tf_groupnorm_scratch(B, C));
    float *gdx = dcopy(dx, n), *gdg = dcopy(dg, (size_t)C), *gdb = dcopy(db, (size_t)C);
    if (!acc) dpoison(gdx, n);
    dpoison(gy, n);
    tf_groupnorm_fwd(B, C, N, G, 1e-5f, silu, x, g, be, y, mu, rs);
    tf_groupnorm_bwd(B, C, N, G, silu, x, g, be, mu, rs, dy, want_dx ? dx : NULL, acc, dg, db, scr);
    tf_groupnorm_fwd_cuda(B, C, N, G, 1e-5f, silu, gx, gg, gbe, gy, gmu, grs);
    tf_groupnorm_bwd_cuda(B, C, N, G, silu, gx, gg, gbe, gmu, grs, gdy, want_dx ? gdx : NULL, acc, gdg, gdb, gscr);
    char nm[96], what[140];
    snprintf(nm, sizeof nm, "groupnorm%s B%d C%d N%d G%d%s%s", silu ? "+silu" : "", B, C, N, G, acc ? " acc" : "",
             want_dx ? "" : " nodx");
    snprintf(what, sizeof what, "%s y", nm); cmp_dev(what, gy, y, n, RT_GEMM);
    snprintf(what, sizeof what, "%s mean", nm); cmp_dev(what, gmu, mu, (size_t)B * G, RT_GEMM);
    snprintf(what, sizeof what, "%s rstd", nm); cmp_dev(what, grs, rs, (size_t)B * G, RT_GEMM);
    if (want_dx) { snprintf(what, sizeof what, "%s dx", nm); cmp_dev(what, gdx, dx, n, RT_GEMM); }
    snprintf(what, sizeof what, "%s dgamma", nm); cmp_dev(what, gdg, dg, (size_t)C, RT_GEMM);
    snprintf(what, sizeof what, "%s dbeta", nm); cmp_dev(what, gdb, db, (size_t)C, RT_GEMM);
    free(x); free(g); free(be); free(dy); free(dx); free(dg); free(db); free(y); free(mu); free(rs); free(scr);
    dfree(gx); dfree(gg); dfree(gbe); dfree(gdy); dfree(gy); dfree(gmu); dfree(grs); dfree(gscr); dfree(gdx);
    dfree(gdg); dfree(gdb);
}

static void attn_case(int B, int C, int N, int heads, int acc) {
    const size_t nq = (size_t)B * N * 3 * C, no = (size_t)B * N * C, np = (size_t)B * heads * N * N;
    float *qkv = hrand(nq, 31, 1.5f), *dout = hrand(no, 32, 1.0f), *dq = hrand(nq, 33, 1.0f);
    float *out = hnew(no), *P = hnew(np), *scr = hnew(tf_attention_scratch(N, omp_get_max_threads()));
    float *gqkv = dcopy(qkv, nq), *gdout = dcopy(dout, no), *gdq = dcopy(dq, nq);
    float *gout = dnew(no), *gP = dnew(np), *gscr = dnew(tf_attention_scratch(N, TF_CUDA_ATTN_CHUNK));
    if (!acc) dpoison(gdq, nq);
    dpoison(gout, no);
    dpoison(gP, np);
    tf_attention_fwd(B, C, N, heads, qkv, out, P);
    tf_attention_bwd(B, C, N, heads, qkv, P, dout, dq, acc, scr);
    tf_attention_fwd_cuda(B, C, N, heads, gqkv, gout, gP);
    tf_attention_bwd_cuda(B, C, N, heads, gqkv, gP, gdout, gdq, acc, gscr);
    char nm[96], what[140];
    snprintf(nm, sizeof nm, "attention B%d C%d N%d heads%d%s", B, C, N, heads, acc ? " acc" : "");
    snprintf(what, sizeof what, "%s out", nm); cmp_dev(what, gout, out, no, RT_GEMM);
    snprintf(what, sizeof what, "%s P", nm); cmp_dev(what, gP, P, np, RT_GEMM);
    snprintf(what, sizeof what, "%s dqkv", nm); cmp_dev(what, gdq, dq, nq, RT_GEMM);
    free(qkv); free(dout); free(dq); free(out); free(P); free(scr);
    dfree(gqkv); dfree(gdout); dfree(gdq); dfree(gout); dfree(gP); dfree(gscr);
}

/* --quick: the small cases only (for compute-sanitizer, which slows kernels a hundredfold). */
int main(int argc, char **argv) {
    const int quick = argc > 1 && !strcmp(argv[1], "--quick");
    gpu_require("test_gpu_ops");
    if (quick) {
        conv_case(3, 2, 7, 6, 4, 3, 1, 1, 1, 0, 1, NULL, RT_GEMM);
        conv_case(2, 4, 5, 5, 3, 1, 1, 0, 1, 1, 1, NULL, RT_GEMM);
        conv_case(3, 3, 8, 8, 2, 3, 2, 1, 1, 1, 1, "1", RT_GEMM);
    } else {
        test_conv();
    }
    linear_case(3, 7, 5, 1, 0, 1);
    if (!quick) linear_case(128, 256, 512, 1, 1, 1);
    linear_case(16, 64, 32, 0, 0, 0);
    gn_case(2, 6, 10, 3, 0, 0, 1);
    gn_case(2, 6, 10, 3, 1, 1, 1);
    gn_case(3, 64, 256, 16, 1, 0, 1);
    if (!quick) gn_case(2, 256, 64, 32, 0, 1, 1);
    if (!quick) gn_case(2, 128, 1024, 16, 1, 0, 0);
    attn_case(2, 4, 9, 1, 0);
    attn_case(2, 4, 9, 2, 1);
    if (!quick) attn_case(3, 64, 64, 4, 0);
    if (!quick) attn_case(2, 128, 256, 1, 1);
    attn_case(TF_CUDA_ATTN_CHUNK + 2, 8, 16, 2, 1); /* more samples than one backward chunk */
    g_be->sync();
    return tf_test_finish("test_gpu_ops");
}
