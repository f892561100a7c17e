/* groupnorm.c - GroupNorm (PyTorch semantics, biased variance, eps inside the sqrt),
 * optionally fused with the SiLU that follows it in every UNet block.
 * Statistics are accumulated in double for accuracy; one (sample, group) per task.
 * Must not know about models. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

static inline float sigmoidf_(float v) { return 1.0f / (1.0f + expf(-v)); }

void tf_groupnorm_fwd(int B, int C, int N, int G, float eps, int silu, const float *x,
                      const float *gamma, const float *beta, float *y, float *mean, float *rstd) {
    const int cg = C / G;
    const size_t gs = (size_t)cg * N;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++) {
            const float *xg = x + ((size_t)b * C + (size_t)g * cg) * N;
            double s = 0.0, ss = 0.0;
            for (size_t i = 0; i < gs; i++) s += xg[i];
            double mu = s / (double)gs;
            for (size_t i = 0; i < gs; i++) { double d = xg[i] - mu; ss += d * d; }
            double var = ss / (double)gs;
            float r = (float)(1.0 / sqrt(var + eps));
            float m = (float)mu;
            mean[b * G + g] = m;
            rstd[b * G + g] = r;
            float *yg = y + ((size_t)b * C + (size_t)g * cg) * N;
            for (int c = 0; c < cg; c++) {
                int ch = g * cg + c;
                float a = gamma[ch] * r, k = beta[ch] - m * a;
                const float *xc = xg + (size_t)c * N;
                float *yc = yg + (size_t)c * N;
                if (silu)
                    for (int n = 0; n < N; n++) { float v = xc[n] * a + k; yc[n] = v * sigmoidf_(v); }
                else
                    for (int n = 0; n < N; n++) yc[n] = xc[n] * a + k;
            }
        }
}

/* With xhat = (x - mu) rstd and h = gamma xhat + beta (y = silu(h) when fused):
 *   dh = dy (* silu'(h)), dgamma += sum dh xhat, dbeta += sum dh,
 *   dx = rstd (gamma dh - mean_g(gamma dh) - xhat mean_g(gamma dh xhat)). */
void tf_groupnorm_bwd(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                      const float *beta, const float *mean, const float *rstd, const float *dy,
                      float *dx, int acc, float *dgamma, float *dbeta) {
    const int cg = C / G;
    const size_t gs = (size_t)cg * N;
    /* Threads split the groups, so each owns its channels' dgamma/dbeta: no atomics, and the
     * sum over samples runs in order (deterministic). */
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        for (int b = 0; b < B; b++) {
            const size_t off = ((size_t)b * C + (size_t)g * cg) * N;
            const float *xg = x + off, *dyg = dy + off;
            float m = mean[b * G + g], r = rstd[b * G + g];
            double s1 = 0.0, s2 = 0.0; /* sum gamma*dh, sum gamma*dh*xhat */
            for (int c = 0; c < cg; c++) {
                int ch = g * cg + c;
                float gm = gamma[ch];
                const float *xc = xg + (size_t)c * N, *dyc = dyg + (size_t)c * N;
                double dg = 0.0, dbt = 0.0;
                for (int n = 0; n < N; n++) {
                    float xh = (xc[n] - m) * r;
                    float dh = dyc[n];
                    if (silu) {
                        float h = gm * xh + beta[ch], sg = sigmoidf_(h);
                        dh *= sg * (1.0f + h * (1.0f - sg));
                    }
                    dg += (double)dh * xh;
                    dbt += dh;
                }
                dgamma[ch] += (float)dg;
                dbeta[ch] += (float)dbt;
                s1 += gm * dbt;
                s2 += gm * dg;
            }
            if (!dx) continue;
            float m1 = (float)(s1 / (double)gs), m2 = (float)(s2 / (double)gs);
            float *dxg = dx + off;
            for (int c = 0; c < cg; c++) {
                int ch = g * cg + c;
                float gm = gamma[ch];
                const float *xc = xg + (size_t)c * N, *dyc = dyg + (size_t)c * N;
                float *dxc = dxg + (size_t)c * N;
                for (int n = 0; n < N; n++) {
                    float xh = (xc[n] - m) * r;
                    float dh = dyc[n];
                    if (silu) {
                        float h = gm * xh + beta[ch], sg = sigmoidf_(h);
                        dh *= sg * (1.0f + h * (1.0f - sg));
                    }
                    float v = r * (gm * dh - m1 - xh * m2);
                    dxc[n] = acc ? dxc[n] + v : v;
                }
            }
        }
    }
}
