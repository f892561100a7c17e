/* rng.h - counter-based, keyed random numbers (Philox4x32-10).
 *
 * Every random number in tinyflow is a pure function of
 *   (seed, stream, step, sample, index)
 * where `sample` is the GLOBAL index of the example in its batch (not a rank
 * index), so a 2-rank run draws exactly the numbers a 1-rank run draws, and a
 * resumed run needs only the step. There is no hidden generator state.
 * This file must not know about models, ranks or files.
 */
#ifndef TF_CORE_RNG_H
#define TF_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Streams keep unrelated uses independent. Add new ones at the end. */
typedef enum {
    TF_STREAM_INIT = 1,      /* parameter initialisation */
    TF_STREAM_NOISE = 2,     /* x0 ~ N(0, I) of the flow path */
    TF_STREAM_TIME = 3,      /* training time t */
    TF_STREAM_SHUFFLE = 4,   /* data-loader permutation */
    TF_STREAM_DROPOUT = 5,   /* dropout masks */
    TF_STREAM_LABELDROP = 6, /* classifier-free-guidance label dropout */
    TF_STREAM_AUGMENT = 7,   /* data augmentation (flips) */
    TF_STREAM_PROBE = 8,     /* Hutchinson probes */
    TF_STREAM_SAMPLE = 9,    /* evaluation / sampling noise */
    TF_STREAM_TOY = 10,      /* toy data generators */
    TF_STREAM_USER = 64      /* first id free for other uses */
} TfStream;

typedef struct {
    uint32_t key[2]; /* from (seed, stream) */
    uint32_t ctr[4]; /* ctr[0] = block index (filled by the draw), ctr[1] = sample, ctr[2..3] = step */
} TfRng;

/* A generator for one (seed, stream, step, sample). */
TfRng tf_rng(uint64_t seed, uint32_t stream, uint64_t step, uint64_t sample);

/* One Philox4x32-10 block: four 32-bit words for counter block `block`. */
void tf_rng_block(const TfRng *r, uint32_t block, uint32_t out[4]);

/* Element i of the stream, as a uniform in [0, 1) (24-bit resolution) or the raw word. */
uint32_t tf_rng_u32(const TfRng *r, uint64_t i);
float tf_rng_uniform(const TfRng *r, uint64_t i);
/* Element i as a standard normal (Box-Muller on elements 2i'/2i'+1 of the same block). */
float tf_rng_normal(const TfRng *r, uint64_t i);

/* Fill out[0..n) with elements offset..offset+n of the stream. */
void tf_rng_fill_uniform(const TfRng *r, uint64_t offset, float *out, size_t n);
void tf_rng_fill_normal(const TfRng *r, uint64_t offset, float *out, size_t n);

/* A uniform integer in [0, n) from element i (Lemire's multiply-shift, unbiased enough for n < 2^24). */
uint32_t tf_rng_below(const TfRng *r, uint64_t i, uint32_t n);

/* splitmix64: a bijective mixer, used to derive keys and hashes. */
uint64_t tf_splitmix64(uint64_t x);

#endif
