/* linear.c - fully connected layer y = x W^T + b (PyTorch weight layout [Do, Di]).
 * One GEMM each way; the provider threads it. Must not know about models. */
#include <string.h>

#include "ops/gemm.h"
#include "ops/ops.h"

void tf_linear_fwd(int B, int Di, int Do, const float *x, const float *w, const float *b, float *y) {
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < B; i++) memcpy(y + (size_t)i * Do, b, sizeof(float) * Do);
        beta = 1.0f;
    }
    tf_sgemm(0, 1, B, Do, Di, 1.0f, x, Di, w, Di, beta, y, Do);
}

void tf_linear_bwd(int B, int Di, int Do, const float *x, const float *w, const float *dy, float *dx,
                   int acc, float *dw, float *db) {
    if (dx) tf_sgemm(0, 0, B, Di, Do, 1.0f, dy, Do, w, Di, acc ? 1.0f : 0.0f, dx, Di);
    tf_sgemm(1, 0, Do, Di, B, 1.0f, dy, Do, x, Di, 1.0f, dw, Di);
    if (db)
        for (int i = 0; i < B; i++) {
            const float *r = dy + (size_t)i * Do;
            for (int o = 0; o < Do; o++) db[o] += r[o];
        }
}
