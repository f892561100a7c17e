/* conv2d.c - 2-D convolution forward/backward on the CPU (im2col + GEMM).
 *
 * Each thread takes whole images (static schedule) and runs single-threaded
 * GEMMs on its own im2col buffer; weight gradients go to per-thread partial
 * buffers summed in thread order, so results are deterministic for a given
 * thread count. 1x1 stride-1 convolutions skip im2col (the image is already
 * the column matrix). Must not know about models or the tape. */
#include <omp.h>
#include <string.h>

#include "ops/gemm.h"
#include "core/check.h"
#include "ops/ops.h"

TfConvShape tf_conv_shape(int B, int Ci, int H, int W, int Co, int K, int stride, int pad) {
    TfConvShape s = {B, Ci, H, W, Co, K, stride, pad, 0, 0, omp_get_max_threads()};
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

static size_t col_floats(const TfConvShape *s) { return (size_t)s->Ci * s->K * s->K * s->Ho * s->Wo; }
static size_t wgrad_floats(const TfConvShape *s) { return (size_t)s->Co * s->Ci * s->K * s->K + s->Co; }

size_t tf_conv2d_scratch(const TfConvShape *s, int threads) {
    size_t per = (is_pointwise(s) ? 0 : col_floats(s)) + wgrad_floats(s);
    return per * (size_t)threads;
}

/* col[(c*K + kh)*K + kw][oh*Wo + ow] = x[c][oh*S - P + kh][ow*S - P + kw] (0 outside). */
static void im2col(const TfConvShape *s, const float *x, float *col) {
    const int K = s->K, S = s->stride, P = s->pad, H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo;
    for (int c = 0; c < s->Ci; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                float *row = col + ((size_t)(c * K + kh) * K + kw) * Ho * Wo;
                for (int oh = 0; oh < Ho; oh++) {
                    int ih = oh * S - P + kh;
                    float *r = row + (size_t)oh * Wo;
                    if (ih < 0 || ih >= H) { memset(r, 0, sizeof(float) * Wo); continue; }
                    const float *xr = xc + (size_t)ih * W;
                    if (S == 1) {
                        int lo = P - kw > 0 ? P - kw : 0;             /* first ow with iw >= 0 */
                        int hi = W + P - kw < Wo ? W + P - kw : Wo;   /* one past last ow with iw < W */
                        if (hi < lo) hi = lo;
                        for (int ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                        memcpy(r + lo, xr + lo - P + kw, sizeof(float) * (size_t)(hi - lo));
                        for (int ow = hi; ow < Wo; ow++) r[ow] = 0.0f;
                    } else {
                        for (int ow = 0; ow < Wo; ow++) {
                            int iw = ow * S - P + kw;
                            r[ow] = (iw >= 0 && iw < W) ? xr[iw] : 0.0f;
                        }
                    }
                }
            }
    }
}

/* dx[c][ih][iw] += col[...] : the adjoint of im2col. */
static void col2im_add(const TfConvShape *s, const float *col, float *dx) {
    const int K = s->K, S = s->stride, P = s->pad, H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo;
    for (int c = 0; c < s->Ci; c++) {
        float *dc = dx + (size_t)c * H * W;
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                const float *row = col + ((size_t)(c * K + kh) * K + kw) * Ho * Wo;
                for (int oh = 0; oh < Ho; oh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= H) continue;
                    const float *r = row + (size_t)oh * Wo;
                    float *dr = dc + (size_t)ih * W;
                    if (S == 1) {
                        int lo = P - kw > 0 ? P - kw : 0;
                        int hi = W + P - kw < Wo ? W + P - kw : Wo;
                        float *d = dr - P + kw;
                        for (int ow = lo; ow < hi; ow++) d[ow] += r[ow];
                    } else {
                        for (int ow = 0; ow < Wo; ow++) {
                            int iw = ow * S - P + kw;
                            if (iw >= 0 && iw < W) dr[iw] += r[ow];
                        }
                    }
                }
            }
    }
}

void tf_conv2d_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                   float *scratch) {
    const int N = s->Ho * s->Wo, CKK = s->Ci * s->K * s->K;
    const size_t per = (is_pointwise(s) ? 0 : col_floats(s)) + wgrad_floats(s);
    const size_t xs = (size_t)s->Ci * s->H * s->W, ys = (size_t)s->Co * N;
#pragma omp parallel num_threads(s->threads)
    {
        float *col = scratch + per * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (int bi = 0; bi < s->B; bi++) {
            const float *xb = x + xs * bi;
            float *yb = y + ys * bi;
            const float *cm = xb;
            if (!is_pointwise(s)) { im2col(s, xb, col); cm = col; }
            float beta = 0.0f;
            if (b) {
                for (int o = 0; o < s->Co; o++) {
                    float *r = yb + (size_t)o * N;
                    for (int n = 0; n < N; n++) r[n] = b[o];
                }
                beta = 1.0f;
            }
            tf_sgemm(0, 0, s->Co, N, CKK, 1.0f, w, CKK, cm, N, beta, yb, N);
        }
    }
}

void tf_conv2d_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                   int acc, float *dw, float *db, float *scratch) {
    const int N = s->Ho * s->Wo, CKK = s->Ci * s->K * s->K;
    const int pw = is_pointwise(s);
    const size_t per = (pw ? 0 : col_floats(s)) + wgrad_floats(s);
    const size_t xs = (size_t)s->Ci * s->H * s->W, ys = (size_t)s->Co * N;
    const size_t nw = (size_t)s->Co * CKK;
    const int T = s->threads;
#pragma omp parallel num_threads(T)
    {
        int tid = omp_get_thread_num();
        float *col = scratch + per * (size_t)tid;
        float *dwp = col + (pw ? 0 : col_floats(s)); /* [Co*CKK] then [Co] */
        memset(dwp, 0, sizeof(float) * wgrad_floats(s));
        int first = 1;
#pragma omp for schedule(static)
        for (int bi = 0; bi < s->B; bi++) {
            const float *xb = x + xs * bi;
            const float *dyb = dy + ys * bi;
            const float *cm = xb;
            if (!pw) { im2col(s, xb, col); cm = col; }
            /* dW_partial[Co, CKK] += dY[Co, N] * col[CKK, N]^T */
            tf_sgemm(0, 1, s->Co, CKK, N, 1.0f, dyb, N, cm, N, first ? 0.0f : 1.0f, dwp, CKK);
            first = 0;
            if (db) {
                float *dbp = dwp + nw;
                for (int o = 0; o < s->Co; o++) {
                    const float *r = dyb + (size_t)o * N;
                    float acc_b = 0.0f;
                    for (int n = 0; n < N; n++) acc_b += r[n];
                    dbp[o] += acc_b;
                }
            }
            if (dx) {
                float *dxb = dx + xs * bi;
                if (pw) {
                    /* dX[Ci, N] (+)= W[Co, Ci]^T dY[Co, N] */
                    tf_sgemm(1, 0, s->Ci, N, s->Co, 1.0f, w, CKK, dyb, N, acc ? 1.0f : 0.0f, dxb, N);
                } else {
                    tf_sgemm(1, 0, CKK, N, s->Co, 1.0f, w, CKK, dyb, N, 0.0f, col, N);
                    if (!acc) memset(dxb, 0, sizeof(float) * xs);
                    col2im_add(s, col, dxb);
                }
            }
        }
#pragma omp barrier
        /* Sum the partials in thread order: thread t reduces its slice of the weights. */
        const size_t total = wgrad_floats(s);
        size_t lo = total * (size_t)tid / T, hi = total * (size_t)(tid + 1) / T;
        for (int t = 0; t < T; t++) {
            const float *p = scratch + per * (size_t)t + (pw ? 0 : col_floats(s));
            for (size_t i = lo; i < hi; i++) {
                if (i < nw) dw[i] += p[i];
                else if (db) db[i - nw] += p[i];
            }
        }
    }
}
