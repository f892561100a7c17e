/* dropout.cu - inverted dropout on the GPU with the SAME keyed Philox4x32-10 as core/rng.c:
 * element i of sample b keeps iff tf_rng_uniform(tf_rng(seed, TF_STREAM_DROPOUT, step,
 * sample0 + b), salt*per + i) >= p, so masks (and values: the scaling and the accumulation
 * use round-to-nearest intrinsics that the compiler may not fuse) are bit-identical to the
 * CPU op's, and backward regenerates the mask instead of storing it.
 * The key and the step words come from tf_rng() on the host; the sample word is formed here
 * exactly as tf_rng forms it. Must not know about models. */
extern "C" {
#include "core/rng.h"
}
#include "ops/cuda_common.cuh"

struct DropKey {
    uint32_t k0, k1, c2, c3;
};

/* core/rng.c's tf_rng_block, word for word. */
__device__ __forceinline__ uint32_t philox_word(DropKey key, uint32_t c0, uint32_t c1, int word) {
    uint32_t c2 = key.c2, c3 = key.c3, k0 = key.k0, k1 = key.k1;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return word == 0 ? c0 : word == 1 ? c1 : word == 2 ? c2 : c3;
}

__global__ void tf_dropout_kernel(int B, size_t per, float p, float keep, DropKey key, uint64_t sample0,
                                  uint64_t base, const float *__restrict__ src, float *__restrict__ dst, int acc) {
    TF_GRID_STRIDE(i, (size_t)B * per) {
        const uint64_t b = i / per, e = base + (i % per);
        const uint64_t sample = sample0 + b;
        const uint32_t c1 = (uint32_t)sample ^ (uint32_t)(sample >> 32) * 0x9E3779B9u;
        const uint32_t w = philox_word(key, (uint32_t)(e >> 2), c1, (int)(e & 3));
        const float u = __fmul_rn((float)(w >> 8), 1.0f / 16777216.0f);
        const float v = u >= p ? __fmul_rn(src[i], keep) : 0.0f;
        dst[i] = acc ? __fadd_rn(dst[i], v) : v;
    }
}

static void dropout_apply(int B, size_t per, float p, uint64_t seed, uint64_t step, uint64_t s0, uint32_t salt,
                          const float *src, float *dst, int acc) {
    const float keep = 1.0f / (1.0f - p); /* as dropout.c computes it, in float */
    TfRng r = tf_rng(seed, TF_STREAM_DROPOUT, step, 0);
    DropKey key = {r.key[0], r.key[1], r.ctr[2], r.ctr[3]};
    TF_LAUNCH_1D(tf_dropout_kernel, (size_t)B * per, B, per, p, keep, key, s0, (uint64_t)salt * per, src, dst, acc);
}

extern "C" void tf_dropout_fwd_cuda(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                                    uint32_t salt, const float *x, float *y) {
    dropout_apply(B, per_sample, p, seed, step, sample0, salt, x, y, 0);
}

extern "C" void tf_dropout_bwd_cuda(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                                    uint32_t salt, const float *dy, float *dx, int acc) {
    dropout_apply(B, per_sample, p, seed, step, sample0, salt, dy, dx, acc);
}
