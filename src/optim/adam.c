/* adam.c - Adam/AdamW, gradient norm, scaling, finiteness, EMA (see optim.h). */
#include <math.h>

#include "optim/optim.h"

void tf_adam_update(const TfAdamConfig *c, size_t n, float *param, const float *grad, float *m, float *v,
                    long t, float lr) {
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, wd = c->weight_decay;
    const double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    const float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const int decoupled = c->kind == TF_OPTIM_ADAMW;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float p = param[i], g = grad[i];
        if (decoupled) p -= lr * wd * p;
        else g += wd * p;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

#define NORM_CHUNKS 256

double tf_grad_norm(size_t n, const float *grad) {
    double part[NORM_CHUNKS];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < NORM_CHUNKS; c++) {
        size_t lo = n * (size_t)c / NORM_CHUNKS, hi = n * (size_t)(c + 1) / NORM_CHUNKS;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)grad[i] * grad[i];
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < NORM_CHUNKS; c++) s += part[c];
    return sqrt(s);
}

void tf_scale(size_t n, float *x, float s) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

int tf_all_finite(size_t n, const float *x) {
    int ok = 1;
#pragma omp parallel for schedule(static) reduction(&& : ok)
    for (size_t i = 0; i < n; i++) ok = ok && isfinite(x[i]);
    return ok;
}

float tf_ema_decay(float decay, long k) {
    float warm = (float)(1.0 + (double)k) / (float)(10.0 + (double)k);
    return warm < decay ? warm : decay;
}

void tf_ema_update(size_t n, float *ema, const float *param, float d) {
    const float a = 1.0f - d;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) ema[i] -= a * (ema[i] - param[i]);
}
