/* conv2d.c - 2-D convolution on channels-last (NHWC) maps: shape checks, the
 * planner that picks an implementation, and the portable implementation
 * (im2col + GEMM), used when tinyflow is built on a plain CBLAS (Apple
 * Accelerate, OpenBLAS) and as the reference the oneDNN path is tested against.
 *
 * Portable path: each thread takes whole images (static schedule) and runs
 * single-threaded GEMMs on its own column buffer col[N, K*K*Ci] (columns in
 * (kh, kw, ci) order, so the weights are used as [Co, K, K, Ci], a transposed
 * copy made once per call); weight gradients go to per-thread partials summed in
 * thread order, so results are deterministic for a given thread count.
 * 1x1 stride-1 convolutions skip im2col (the image already is the column matrix).
 * Must not know about models or the tape. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/conv2d_dnnl.h"
#include "ops/gemm.h"
#include "ops/ops.h"

TfConvShape tf_conv_shape(int B, int Ci, int H, int W, int Co, int K, int stride, int pad) {
    TfConvShape s = {B, Ci, H, W, Co, K, stride, pad, 0, 0, omp_get_max_threads(), NULL};
    if (B <= 0 || Ci <= 0 || H <= 0 || W <= 0 || Co <= 0 || K <= 0 || stride <= 0 || pad < 0)
        tf_die_usage("check the model configuration", "conv2d: invalid shape B=%d Ci=%d H=%d W=%d Co=%d K=%d stride=%d pad=%d",
                     B, Ci, H, W, Co, K, stride, pad);
    s.Ho = (H + 2 * pad - K) / stride + 1;
    s.Wo = (W + 2 * pad - K) / stride + 1;
    if (s.Ho <= 0 || s.Wo <= 0)
        tf_die_usage("the image is too small for this kernel/stride; check image_size and ch_mult",
                     "conv2d: kernel %d stride %d pad %d does not fit a %dx%d input", K, stride, pad, H, W);
    return s;
}

static int is_pointwise(const TfConvShape *s) { return s->K == 1 && s->stride == 1 && s->pad == 0; }
static size_t kkc(const TfConvShape *s) { return (size_t)s->K * s->K * s->Ci; }
static size_t col_floats(const TfConvShape *s) { return is_pointwise(s) ? 0 : (size_t)s->Ho * s->Wo * kkc(s); }
static size_t wgrad_floats(const TfConvShape *s) { return (size_t)s->Co * kkc(s) + s->Co; }
/* scratch: [w_t: Co*KKC] then per thread [col | dw partial (Co*KKC + Co)] */
static size_t per_thread(const TfConvShape *s) { return col_floats(s) + wgrad_floats(s); }

size_t tf_conv2d_plan(TfConvShape *s) {
    const char *force = getenv("TF_CONV");
    if (!(force && !strcmp(force, "im2col"))) {
        size_t n = 0;
        if (tf_conv2d_dnnl_plan(s, &n)) return n;
    }
    s->impl = NULL;
    return (size_t)s->Co * kkc(s) + per_thread(s) * (size_t)s->threads;
}

void tf_conv2d_unplan(TfConvShape *s) {
    if (s->impl) tf_conv2d_dnnl_unplan(s);
    s->impl = NULL;
}

const char *tf_conv2d_impl_name(const TfConvShape *s) {
    return s->impl ? tf_conv2d_dnnl_impl_name(s) : "im2col+gemm";
}

/* col[(oh*Wo + ow)][(kh*K + kw)*Ci + c] = x[oh*S - P + kh][ow*S - P + kw][c] (0 outside). */
static void im2col(const TfConvShape *s, const float *x, float *col) {
    const int K = s->K, S = s->stride, P = s->pad, H = s->H, W = s->W, Ci = s->Ci;
    const size_t row = kkc(s);
    for (int oh = 0; oh < s->Ho; oh++)
        for (int ow = 0; ow < s->Wo; ow++) {
            float *r = col + ((size_t)oh * s->Wo + ow) * row;
            for (int kh = 0; kh < K; kh++) {
                int ih = oh * S - P + kh;
                for (int kw = 0; kw < K; kw++) {
                    int iw = ow * S - P + kw;
                    float *d = r + ((size_t)kh * K + kw) * Ci;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) memset(d, 0, sizeof(float) * Ci);
                    else memcpy(d, x + ((size_t)ih * W + iw) * Ci, sizeof(float) * Ci);
                }
            }
        }
}

static void col2im_add(const TfConvShape *s, const float *col, float *dx) {
    const int K = s->K, S = s->stride, P = s->pad, H = s->H, W = s->W, Ci = s->Ci;
    const size_t row = kkc(s);
    for (int oh = 0; oh < s->Ho; oh++)
        for (int ow = 0; ow < s->Wo; ow++) {
            const float *r = col + ((size_t)oh * s->Wo + ow) * row;
            for (int kh = 0; kh < K; kh++) {
                int ih = oh * S - P + kh;
                if (ih < 0 || ih >= H) continue;
                for (int kw = 0; kw < K; kw++) {
                    int iw = ow * S - P + kw;
                    if (iw < 0 || iw >= W) continue;
                    const float *src = r + ((size_t)kh * K + kw) * Ci;
                    float *d = dx + ((size_t)ih * W + iw) * Ci;
                    for (int c = 0; c < Ci; c++) d[c] += src[c];
                }
            }
        }
}

/* wt[o][(kh*K + kw)*Ci + c] = w[o][c][kh][kw] */
static void weights_ohwi(const TfConvShape *s, const float *w, float *wt) {
    const int K = s->K, Ci = s->Ci;
    for (int o = 0; o < s->Co; o++)
        for (int c = 0; c < Ci; c++)
            for (int k = 0; k < K * K; k++) wt[(size_t)o * kkc(s) + (size_t)k * Ci + c] = w[((size_t)o * Ci + c) * K * K + k];
}

void tf_conv2d_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                   float *scratch) {
    if (s->impl) { tf_conv2d_dnnl_fwd(s, x, w, b, y, scratch); return; }
    const int N = s->Ho * s->Wo, KKC = (int)kkc(s);
    const size_t xs = (size_t)s->H * s->W * s->Ci, ys = (size_t)N * s->Co;
    float *wt = scratch;
    weights_ohwi(s, w, wt);
    float *base = scratch + (size_t)s->Co * KKC;
#pragma omp parallel num_threads(s->threads)
    {
        float *col = base + per_thread(s) * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (int bi = 0; bi < s->B; bi++) {
            const float *xb = x + xs * bi;
            float *yb = y + ys * bi;
            const float *cm = xb;
            if (!is_pointwise(s)) { im2col(s, xb, col); cm = col; }
            float beta = 0.0f;
            if (b) {
                for (int n = 0; n < N; n++) memcpy(yb + (size_t)n * s->Co, b, sizeof(float) * s->Co);
                beta = 1.0f;
            }
            /* Y[N, Co] = col[N, KKC] * Wt[Co, KKC]^T */
            tf_sgemm(0, 1, N, s->Co, KKC, 1.0f, cm, KKC, wt, KKC, beta, yb, s->Co);
        }
    }
}

void tf_conv2d_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                   int acc, float *dw, float *db, float *scratch) {
    if (s->impl) { tf_conv2d_dnnl_bwd(s, x, w, dy, dx, acc, dw, db, scratch); return; }
    const int N = s->Ho * s->Wo, KKC = (int)kkc(s), K = s->K, Ci = s->Ci;
    const int pw = is_pointwise(s);
    const size_t xs = (size_t)s->H * s->W * Ci, ys = (size_t)N * s->Co, nw = (size_t)s->Co * KKC;
    const int T = s->threads;
    float *wt = scratch;
    weights_ohwi(s, w, wt);
    float *base = scratch + nw;
#pragma omp parallel num_threads(T)
    {
        int tid = omp_get_thread_num();
        float *col = base + per_thread(s) * (size_t)tid;
        float *dwp = col + col_floats(s);
        memset(dwp, 0, sizeof(float) * wgrad_floats(s));
        int first = 1;
#pragma omp for schedule(static)
        for (int bi = 0; bi < s->B; bi++) {
            const float *xb = x + xs * bi, *dyb = dy + ys * bi;
            const float *cm = xb;
            if (!pw) { im2col(s, xb, col); cm = col; }
            /* dWt[Co, KKC] += dY[N, Co]^T col[N, KKC] */
            tf_sgemm(1, 0, s->Co, KKC, N, 1.0f, dyb, s->Co, cm, KKC, first ? 0.0f : 1.0f, dwp, KKC);
            first = 0;
            if (db) {
                float *dbp = dwp + nw;
                for (int n = 0; n < N; n++)
                    for (int o = 0; o < s->Co; o++) dbp[o] += dyb[(size_t)n * s->Co + o];
            }
            if (dx) {
                float *dxb = dx + xs * bi;
                if (pw) {
                    tf_sgemm(0, 0, N, Ci, s->Co, 1.0f, dyb, s->Co, wt, KKC, acc ? 1.0f : 0.0f, dxb, Ci);
                } else {
                    tf_sgemm(0, 0, N, KKC, s->Co, 1.0f, dyb, s->Co, wt, KKC, 0.0f, col, KKC);
                    if (!acc) memset(dxb, 0, sizeof(float) * xs);
                    col2im_add(s, col, dxb);
                }
            }
        }
#pragma omp barrier
        /* Thread t reduces its slice of the partials, in thread order, back to [Co, Ci, K, K]. */
        const size_t total = wgrad_floats(s);
        size_t lo = total * (size_t)tid / T, hi = total * (size_t)(tid + 1) / T;
        for (size_t i = lo; i < hi; i++) {
            float sum = 0.0f;
            for (int t = 0; t < T; t++) sum += (base + per_thread(s) * (size_t)t + col_floats(s))[i];
            if (i < nw) {
                size_t o = i / KKC, r = i % KKC, k = r / Ci, c = r % Ci;
                dw[(o * Ci + c) * K * K + k] += sum;
            } else if (db) {
                db[i - nw] += sum;
            }
        }
    }
}
