/* fastmath.h - a vectorisable expf and the SiLU built on it.
 *
 * libm's expf is a function call the compiler cannot vectorise, and SiLU/GroupNorm
 * spend most of their time in it. tf_expf is Cephes-style: x = n ln2 + r with
 * |r| <= ln2/2 (ln2 split in two for exactness), a degree-6 polynomial for e^r,
 * and 2^n assembled in the exponent bits. Relative error < 2e-7 (about 2 ulp) on
 * [-87, 88]; inputs outside are clamped (e^-87 ~ 1.6e-38; SiLU saturates long
 * before). Pure inline arithmetic: loops that call it vectorise at -O3.
 */
#ifndef TF_OPS_FASTMATH_H
#define TF_OPS_FASTMATH_H

#include <stdint.h>

static inline float tf_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    /* n = round(x / ln2) by the 1.5*2^23 trick (floorf would block vectorisation) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale;
    scale.i = ((int32_t)n + 127) << 23; /* 2^n in the exponent bits (type punning via a union is C11) */
    return p * scale.f;
}

static inline float tf_sigmoidf(float x) { return 1.0f / (1.0f + tf_expf(-x)); }
static inline float tf_siluf(float x) { return x * tf_sigmoidf(x); }
/* d silu / dx = s (1 + x (1 - s)) with s = sigmoid(x). */
static inline float tf_silu_grad(float x) {
    float s = tf_sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

#endif
