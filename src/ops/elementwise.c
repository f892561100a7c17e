/* elementwise.c - SiLU, add, and per-channel broadcast add/multiply (the time
 * embedding over H x W). Must not know about models. */
#include <math.h>
#include <string.h>

#include "ops/fastmath.h"
#include "ops/ops.h"

void tf_silu_fwd(size_t n, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = tf_siluf(x[i]);
}

void tf_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float v = dy[i] * tf_silu_grad(x[i]);
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
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const float *vb = v + (size_t)b * C;
        for (int n = 0; n < N; n++) {
            size_t off = ((size_t)b * N + n) * C;
            if (mul) for (int c = 0; c < C; c++) y[off + c] = x[off + c] * vb[c];
            else for (int c = 0; c < C; c++) y[off + c] = x[off + c] + vb[c];
        }
    }
}

void tf_bcast_bwd(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                  float *dx, int acc_x, float *dv, int acc_v) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const float *vb = v + (size_t)b * C;
        double red[TF_GN_MAX_CHANNELS];
        for (int c = 0; c < C; c++) red[c] = 0.0;
        for (int n = 0; n < N; n++) {
            size_t off = ((size_t)b * N + n) * C;
            const float *g = dy + off;
            if (mul) for (int c = 0; c < C; c++) red[c] += (double)g[c] * x[off + c];
            else for (int c = 0; c < C; c++) red[c] += g[c];
            if (dx) {
                float *d = dx + off;
                if (mul) { for (int c = 0; c < C; c++) d[c] = (acc_x ? d[c] : 0.0f) + g[c] * vb[c]; }
                else if (acc_x) { for (int c = 0; c < C; c++) d[c] += g[c]; }
                else memcpy(d, g, sizeof(float) * C);
            }
        }
        if (dv) {
            float *o = dv + (size_t)b * C;
            for (int c = 0; c < C; c++) o[c] = acc_v ? o[c] + (float)red[c] : (float)red[c];
        }
    }
}
