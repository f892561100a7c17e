/* loader.h - the distributed, resumable data loader.
 *
 * The batch size is GLOBAL (B over all W ranks; B % W == 0, each rank gets L = B / W).
 * Epoch e visits the examples in one permutation keyed by (seed, e) (TF_STREAM_SHUFFLE,
 * Fisher-Yates driven by keyed draws). Global batch k of the epoch is permutation
 * positions [k B, (k+1) B); rank r takes the contiguous share [k B + r L, k B + (r+1) L).
 * So in one epoch the ranks together see each example at most once and no two ranks see
 * the same one; the LAST PARTIAL BATCH IS DROPPED (the N mod B examples at the end of the
 * permutation are skipped that epoch; a different permutation next epoch), so every step
 * has the full global batch: floor(N / B) steps per epoch.
 *
 * State is (epoch, cursor): cursor = examples of the epoch already handed out as whole
 * global batches. Restoring it resumes exactly where a run stopped, at the same or another
 * world size. Each example carries its index within the global batch (r L + j), which the
 * trainer uses to key its noise, and the flag of its random horizontal flip, keyed by
 * (seed, epoch, dataset index) through TF_STREAM_AUGMENT; with dequantize, the uniform noise
 * added to each 8-bit pixel comes from the same generator (elements 2^32 + pixel).
 *
 * With prefetch > 0 a background thread (pthreads) prepares up to `prefetch` batches ahead;
 * all buffers are allocated at creation, none in tf_loader_next().
 * This module knows nothing about MPI (rank and world are plain numbers), configs or models. */
#ifndef TF_DATA_LOADER_H
#define TF_DATA_LOADER_H

#include <stdint.h>

#include "data/dataset.h"

typedef struct {
    const TfDataset *ds; /* not owned; must outlive the loader */
    uint64_t seed;
    int64_t global_batch;
    int rank, world;
    int shuffle;  /* 1: a new permutation every epoch; 0: dataset order */
    int hflip;    /* random horizontal flips (images) */
    int prefetch; /* batches prepared ahead by a background thread (0: in tf_loader_next) */
    int dequantize; /* 8-bit images: x = (k + u) / 127.5 - 1, u ~ U[0, 1) keyed like the flip */
} TfLoaderConfig;

typedef struct {
    int64_t epoch;
    int64_t cursor;
} TfLoaderState;

typedef struct {
    int64_t n;              /* examples on this rank (global_batch / world) */
    int c, h, w;
    float *x;               /* n * c*h*w: images in [-1, 1] (NCHW), toy points as generated */
    int32_t *y;             /* labels */
    int64_t *index_in_batch;/* global index within the global batch: rank * n + j */
    int64_t *example;       /* index in the dataset */
    uint8_t *flipped;       /* 1 when flipped horizontally */
    int64_t epoch, cursor;  /* where this global batch starts */
    double prepare_s;       /* time the loader spent preparing it */
} TfBatch;

typedef struct {
    int64_t batches;     /* handed out */
    double wait_s;       /* total time tf_loader_next blocked (or prepared, without prefetch) */
    double prepare_s;    /* total time spent preparing those batches (on any thread) */
    double last_wait_s, last_prepare_s;
} TfLoaderStats;

typedef struct TfLoader TfLoader;

/* Dies (exit 2) when the global batch is not divisible by world or exceeds the dataset. */
TfLoader *tf_loader_create(const TfLoaderConfig *cfg);
void tf_loader_free(TfLoader *l);

/* The next local batch; valid until the next call (or set_state / free). */
const TfBatch *tf_loader_next(TfLoader *l);

/* Position after the last batch handed out (save it with a checkpoint). */
TfLoaderState tf_loader_state(const TfLoader *l);
/* Continue from a saved position (any world size with the same global batch). */
void tf_loader_set_state(TfLoader *l, TfLoaderState s);

int64_t tf_loader_steps_per_epoch(const TfLoader *l);
void tf_loader_stats(const TfLoader *l, TfLoaderStats *out);

/* The permutation of epoch `epoch`: perm[0..n) (n < 2^32). */
void tf_loader_permutation(uint64_t seed, int64_t epoch, uint32_t *perm, int64_t n);

#endif
