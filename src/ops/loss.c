/* loss.c - mean squared error and softmax cross-entropy. The mean's denominator
 * is passed in (the global element or sample count), so per-rank gradients add
 * up to the gradient of the global mean. Sums run in double, in order.
 * Must not know about models. */
#include <math.h>

#include "core/check.h"
#include "ops/ops.h"

double tf_mse_fwd(size_t n, const float *pred, const float *target, double denom) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) { double d = (double)pred[i] - target[i]; s += d * d; }
    return s / denom;
}

void tf_mse_bwd(size_t n, const float *pred, const float *target, double denom, float *dpred, int acc) {
    const float k = (float)(2.0 / denom);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float v = k * (pred[i] - target[i]);
        dpred[i] = acc ? dpred[i] + v : v;
    }
}

double tf_xent_fwd(int B, int K, const float *logits, const int32_t *labels, float *probs,
                   double denom) {
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        float *p = probs + (size_t)b * K;
        int y = labels[b];
        if (y < 0 || y >= K)
            tf_die_usage("labels must lie in [0, classes)", "cross-entropy: label %d of sample %d outside [0, %d)", y, b, K);
        float mx = z[0];
        for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
        double s = 0.0;
        for (int k = 0; k < K; k++) s += exp((double)z[k] - mx);
        double lse = mx + log(s);
        for (int k = 0; k < K; k++) p[k] = (float)exp((double)z[k] - lse);
        total += lse - z[y];
    }
    return total / denom;
}

void tf_xent_bwd(int B, int K, const float *probs, const int32_t *labels, double denom, float *dlogits,
                 int acc) {
    const float inv = (float)(1.0 / denom);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++) {
            float v = (probs[(size_t)b * K + k] - (k == labels[b] ? 1.0f : 0.0f)) * inv;
            float *d = dlogits + (size_t)b * K + k;
            *d = acc ? *d + v : v;
        }
}
