/* rng.c - Philox4x32-10 (Salmon et al., SC'11) keyed by (seed, stream) with
 * counter (block, sample, step). See rng.h for the contract. */
#include "core/rng.h"

#include <math.h>

uint64_t tf_splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

TfRng tf_rng(uint64_t seed, uint32_t stream, uint64_t step, uint64_t sample) {
    TfRng r;
    uint64_t k = tf_splitmix64(seed ^ tf_splitmix64((uint64_t)stream * 0xD1B54A32D192ED03ull));
    r.key[0] = (uint32_t)k;
    r.key[1] = (uint32_t)(k >> 32);
    r.ctr[0] = 0;
    r.ctr[1] = (uint32_t)sample ^ (uint32_t)(sample >> 32) * 0x9E3779B9u;
    r.ctr[2] = (uint32_t)step;
    r.ctr[3] = (uint32_t)(step >> 32);
    return r;
}

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void tf_rng_block(const TfRng *r, uint32_t block, uint32_t out[4]) {
    uint32_t c0 = block, c1 = r->ctr[1], c2 = r->ctr[2], c3 = r->ctr[3];
    uint32_t k0 = r->key[0], k1 = r->key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(0xD2511F53u, c0, &hi0, &lo0);
        mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

uint32_t tf_rng_u32(const TfRng *r, uint64_t i) {
    uint32_t w[4];
    tf_rng_block(r, (uint32_t)(i >> 2), w);
    return w[i & 3];
}

static inline float u24(uint32_t w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

float tf_rng_uniform(const TfRng *r, uint64_t i) { return u24(tf_rng_u32(r, i)); }

/* Box-Muller on a pair of words; element i uses pair (i & ~1) and takes cos or sin. */
static inline void box_muller(uint32_t a, uint32_t b, float *z0, float *z1) {
    double u1 = ((double)(a >> 8) + 0.5) * (1.0 / 16777216.0); /* (0,1): log never sees 0 */
    double u2 = (double)(b >> 8) * (1.0 / 16777216.0);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    *z0 = (float)(rad * cos(th));
    *z1 = (float)(rad * sin(th));
}

float tf_rng_normal(const TfRng *r, uint64_t i) {
    uint32_t w[4];
    tf_rng_block(r, (uint32_t)(i >> 2), w);
    int j = (int)(i & 3);
    float z0, z1;
    box_muller(w[j & 2], w[(j & 2) + 1], &z0, &z1);
    return (j & 1) ? z1 : z0;
}

void tf_rng_fill_uniform(const TfRng *r, uint64_t offset, float *out, size_t n) {
    for (size_t k = 0; k < n; k++) out[k] = tf_rng_uniform(r, offset + k);
}

void tf_rng_fill_normal(const TfRng *r, uint64_t offset, float *out, size_t n) {
    size_t k = 0;
    /* Fast path: whole aligned blocks of four. */
    while (k < n && ((offset + k) & 3)) { out[k] = tf_rng_normal(r, offset + k); k++; }
    for (; k + 4 <= n; k += 4) {
        uint32_t w[4];
        tf_rng_block(r, (uint32_t)((offset + k) >> 2), w);
        box_muller(w[0], w[1], &out[k], &out[k + 1]);
        box_muller(w[2], w[3], &out[k + 2], &out[k + 3]);
    }
    for (; k < n; k++) out[k] = tf_rng_normal(r, offset + k);
}

uint32_t tf_rng_below(const TfRng *r, uint64_t i, uint32_t n) {
    return (uint32_t)(((uint64_t)tf_rng_u32(r, i) * n) >> 32);
}
