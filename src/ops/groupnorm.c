/* groupnorm.c - GroupNorm on channels-last maps (PyTorch semantics: biased
 * variance, eps inside the sqrt), optionally fused with the SiLU that follows it
 * in every UNet block. Per sample: channel sums over positions (vectorised over
 * channels, accumulated in double), group statistics, then one normalising pass.
 * Threads take samples; parameter gradients are summed over samples in order.
 * Must not know about models. */
#include <math.h>
#include <string.h>

#include "core/check.h"
#include "ops/fastmath.h"
#include "ops/ops.h"

size_t tf_groupnorm_scratch(int B, int C) { return (size_t)2 * B * C; }

void tf_groupnorm_fwd(int B, int C, int N, int G, float eps, int silu, const float *x,
                      const float *gamma, const float *beta, float *y, float *mean, float *rstd) {
    if (C > TF_GN_MAX_CHANNELS) tf_die("group norm: %d channels exceed the supported %d", C, TF_GN_MAX_CHANNELS);
    const int cg = C / G;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s[TF_GN_MAX_CHANNELS], ss[TF_GN_MAX_CHANNELS];
        float a[TF_GN_MAX_CHANNELS], k[TF_GN_MAX_CHANNELS];
        const float *xb = x + (size_t)b * N * C;
        float *yb = y + (size_t)b * N * C;
        for (int c = 0; c < C; c++) s[c] = ss[c] = 0.0;
        for (int n = 0; n < N; n++) {
            const float *r = xb + (size_t)n * C;
            for (int c = 0; c < C; c++) { double v = r[c]; s[c] += v; ss[c] += v * v; }
        }
        for (int g = 0; g < G; g++) {
            double gs = 0.0, gss = 0.0;
            for (int c = g * cg; c < (g + 1) * cg; c++) { gs += s[c]; gss += ss[c]; }
            double cnt = (double)cg * N, mu = gs / cnt, var = gss / cnt - mu * mu;
            if (var < 0.0) var = 0.0;
            float r = (float)(1.0 / sqrt(var + eps));
            mean[b * G + g] = (float)mu;
            rstd[b * G + g] = r;
            for (int c = g * cg; c < (g + 1) * cg; c++) { a[c] = gamma[c] * r; k[c] = beta[c] - (float)mu * a[c]; }
        }
        for (int n = 0; n < N; n++) {
            const float *r = xb + (size_t)n * C;
            float *o = yb + (size_t)n * C;
            if (silu) for (int c = 0; c < C; c++) o[c] = tf_siluf(r[c] * a[c] + k[c]);
            else for (int c = 0; c < C; c++) o[c] = r[c] * a[c] + k[c];
        }
    }
}

/* With xhat = (x - mu) rstd and h = gamma xhat + beta (y = silu(h) when fused):
 *   dh = dy (* silu'(h)), dgamma += sum dh xhat, dbeta += sum dh,
 *   dx = rstd (gamma dh - mean_g(gamma dh) - xhat mean_g(gamma dh xhat)). */
void tf_groupnorm_bwd(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                      const float *beta, const float *mean, const float *rstd, const float *dy,
                      float *dx, int acc, float *dgamma, float *dbeta, float *scratch) {
    const int cg = C / G;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float mu[TF_GN_MAX_CHANNELS], rs[TF_GN_MAX_CHANNELS], m1[TF_GN_MAX_CHANNELS], m2[TF_GN_MAX_CHANNELS];
        double sdh[TF_GN_MAX_CHANNELS], sdhx[TF_GN_MAX_CHANNELS];
        const float *xb = x + (size_t)b * N * C, *dyb = dy + (size_t)b * N * C;
        for (int c = 0; c < C; c++) {
            mu[c] = mean[b * G + c / cg];
            rs[c] = rstd[b * G + c / cg];
            sdh[c] = sdhx[c] = 0.0;
        }
        for (int n = 0; n < N; n++) {
            const float *xr = xb + (size_t)n * C, *gr = dyb + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                float xh = (xr[c] - mu[c]) * rs[c], dh = gr[c];
                if (silu) dh *= tf_silu_grad(gamma[c] * xh + beta[c]);
                sdh[c] += dh;
                sdhx[c] += (double)dh * xh;
            }
        }
        float *part = scratch + (size_t)b * 2 * C;
        for (int c = 0; c < C; c++) { part[c] = (float)sdhx[c]; part[C + c] = (float)sdh[c]; }
        if (!dx) continue;
        for (int g = 0; g < G; g++) {
            double s1 = 0.0, s2 = 0.0;
            for (int c = g * cg; c < (g + 1) * cg; c++) { s1 += gamma[c] * sdh[c]; s2 += gamma[c] * sdhx[c]; }
            double cnt = (double)cg * N;
            for (int c = g * cg; c < (g + 1) * cg; c++) { m1[c] = (float)(s1 / cnt); m2[c] = (float)(s2 / cnt); }
        }
        float *dxb = dx + (size_t)b * N * C;
        for (int n = 0; n < N; n++) {
            const float *xr = xb + (size_t)n * C, *gr = dyb + (size_t)n * C;
            float *o = dxb + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                float xh = (xr[c] - mu[c]) * rs[c], dh = gr[c];
                if (silu) dh *= tf_silu_grad(gamma[c] * xh + beta[c]);
                float v = rs[c] * (gamma[c] * dh - m1[c] - xh * m2[c]);
                o[c] = acc ? o[c] + v : v;
            }
        }
    }
    for (int b = 0; b < B; b++) {
        const float *part = scratch + (size_t)b * 2 * C;
        for (int c = 0; c < C; c++) { dgamma[c] += part[c]; dbeta[c] += part[C + c]; }
    }
}
