/* elementwise.c - SiLU, add, and per-channel broadcast add/multiply (the time
 * embedding over H x W). Must not know about models. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

void tf_silu_fwd(size_t n, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

void tf_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-x[i]));
        float v = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        dx[i] = acc ? dx[i] + v : v;
    }
}

void tf_add_fwd(size_t n, const float *a, const float *b, float *y) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void pass_grad(size_t n, const float *dy, float *d, int acc) {
    if (!d) return;
    if (!acc) { memcpy(d, dy, sizeof(float) * n); return; }
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) d[i] += dy[i];
}

void tf_add_bwd(size_t n, const float *dy, float *da, int acc_a, float *db, int acc_b) {
    pass_grad(n, dy, da, acc_a);
    pass_grad(n, dy, db, acc_b);
}

void tf_bcast_fwd(int B, int C, int N, int mul, const float *x, const float *v, float *y) {
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            size_t off = ((size_t)b * C + c) * N;
            float s = v[b * C + c];
            if (mul) for (int n = 0; n < N; n++) y[off + n] = x[off + n] * s;
            else for (int n = 0; n < N; n++) y[off + n] = x[off + n] + s;
        }
}

void tf_bcast_bwd(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                  float *dx, int acc_x, float *dv, int acc_v) {
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            size_t off = ((size_t)b * C + c) * N;
            float s = v[b * C + c];
            double red = 0.0;
            for (int n = 0; n < N; n++) {
                float g = dy[off + n];
                red += mul ? (double)g * x[off + n] : (double)g;
                if (dx) {
                    float d = mul ? g * s : g;
                    dx[off + n] = acc_x ? dx[off + n] + d : d;
                }
            }
            if (dv) dv[b * C + c] = acc_v ? dv[b * C + c] + (float)red : (float)red;
        }
}
