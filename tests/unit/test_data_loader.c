/* test_data_loader.c - the distributed loader: per-epoch permutations, coverage and
 * disjointness of the ranks' shares for world sizes 1..8, the dropped partial batch,
 * equality with the 1-rank order, resume mid-epoch at the same and another world size,
 * prefetch = no prefetch, pixel mapping and keyed flips, keyed dequantisation noise, and
 * the usage errors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rng.h"
#include "data/loader.h"
#include "tf_child.h"
#include "tf_test.h"

enum { N = 103, C = 1, H = 2, W = 3, DIM = C * H * W };

static TfDataset make_dataset(uint8_t *pixels, uint8_t *labels) {
    TfDataset ds = {.kind = TF_DATA_MNIST, .n = N, .c = C, .h = H, .w = W, .num_classes = 10,
                    .pixels = pixels, .labels = labels};
    snprintf(ds.name, sizeof ds.name, "fixture");
    for (int i = 0; i < N; i++) {
        labels[i] = (uint8_t)(i % 10);
        for (int k = 0; k < DIM; k++) pixels[i * DIM + k] = (uint8_t)((i * 5 + k * 41) & 255);
    }
    return ds;
}

static TfLoader *make(const TfDataset *ds, int64_t batch, int rank, int world, int prefetch, int hflip) {
    TfLoaderConfig c = {.ds = ds, .seed = 1234, .global_batch = batch, .rank = rank, .world = world,
                        .shuffle = 1, .hflip = hflip, .prefetch = prefetch};
    return tf_loader_create(&c);
}

/* The examples of `steps` global batches, all ranks concatenated in rank order. */
static void collect(const TfDataset *ds, int64_t batch, int world, int prefetch, int steps, TfLoaderState *start,
                    int64_t *out) {
    for (int r = 0; r < world; r++) {
        TfLoader *l = make(ds, batch, r, world, prefetch, 0);
        if (start) tf_loader_set_state(l, *start);
        int64_t local = batch / world;
        for (int s = 0; s < steps; s++) {
            const TfBatch *b = tf_loader_next(l);
            for (int64_t j = 0; j < local; j++) {
                out[s * batch + r * local + j] = b->example[j];
                if (b->index_in_batch[j] != r * local + j) out[s * batch + r * local + j] = -1000;
            }
        }
        tf_loader_free(l);
    }
}

static void test_permutation(void) {
    uint32_t a[N], b[N], c[N];
    tf_loader_permutation(1234, 0, a, N);
    tf_loader_permutation(1234, 0, b, N);
    tf_loader_permutation(1234, 1, c, N);
    int seen[N] = {0}, same = 0, fixed = 0;
    for (int i = 0; i < N; i++) { if (a[i] < N) seen[a[i]]++; same += a[i] == c[i]; fixed += a[i] == (uint32_t)i; }
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= seen[i] == 1;
    CHECK_MSG(ok, "epoch 0 is not a permutation of 0..%d", N - 1);
    CHECK(!memcmp(a, b, sizeof a));
    CHECK_MSG(same < 10, "epochs 0 and 1 agree on %d of %d positions", same, N);
    CHECK_MSG(fixed < 10, "%d fixed points: not shuffled", fixed);
}

static void test_coverage(const TfDataset *ds) {
    /* For W = 1..8 and two batch sizes: one epoch covers floor(N/B)*B distinct examples,
     * ranks are disjoint, and the order equals the 1-rank order with the same global batch. */
    for (int world = 1; world <= 8; world++) {
        for (int mult = 1; mult <= 2; mult++) {
            int64_t batch = (int64_t)world * (mult == 1 ? 3 : 5);
            if (batch * 2 > N) batch = world;
            int steps = (int)(N / batch);
            int64_t *got = calloc((size_t)(steps * batch), sizeof *got), *ref = calloc((size_t)(steps * batch), sizeof *ref);
            collect(ds, batch, world, world % 2, steps, NULL, got);
            collect(ds, batch, 1, 0, steps, NULL, ref);
            int count[N] = {0}, bad_index = 0;
            for (int64_t i = 0; i < steps * batch; i++) {
                if (got[i] < 0 || got[i] >= N) { bad_index = 1; continue; }
                count[got[i]]++;
            }
            int dup = 0, covered = 0;
            for (int i = 0; i < N; i++) { dup |= count[i] > 1; covered += count[i] == 1; }
            CHECK_MSG(!bad_index, "world %d batch %lld: bad example or index_in_batch", world, (long long)batch);
            CHECK_MSG(!dup, "world %d batch %lld: an example seen twice in one epoch", world, (long long)batch);
            CHECK_MSG(covered == steps * batch, "world %d batch %lld: %d covered, want %lld", world, (long long)batch,
                      covered, (long long)(steps * batch));
            CHECK_MSG(!memcmp(got, ref, (size_t)(steps * batch) * sizeof *got),
                      "world %d batch %lld: order differs from 1 rank", world, (long long)batch);
            /* The dropped tail: exactly the last N mod B positions of the permutation. */
            uint32_t perm[N];
            tf_loader_permutation(1234, 0, perm, N);
            int tail_unseen = 1;
            for (int64_t p = steps * batch; p < N; p++) tail_unseen &= count[perm[p]] == 0;
            CHECK_MSG(tail_unseen, "world %d: the partial batch was not the one dropped", world);
            free(got);
            free(ref);
        }
    }
}

static void test_epochs_and_resume(const TfDataset *ds) {
    const int64_t B = 24;
    const int steps = 10; /* 4 steps per epoch (103 / 24): crosses two epoch boundaries */
    int64_t ref[10 * 24];
    collect(ds, B, 1, 0, steps, NULL, ref);
    TfLoader *l = make(ds, B, 0, 1, 2, 0);
    CHECK(tf_loader_steps_per_epoch(l) == 4);
    const TfBatch *b = NULL;
    for (int s = 0; s < steps; s++) {
        b = tf_loader_next(l);
        CHECK_MSG(b->epoch == s / 4 && b->cursor == (s % 4) * B, "step %d at epoch %lld cursor %lld", s,
                  (long long)b->epoch, (long long)b->cursor);
    }
    TfLoaderState st = tf_loader_state(l);
    CHECK(st.epoch == 2 && st.cursor == 2 * B);
    TfLoaderStats stats;
    tf_loader_stats(l, &stats);
    CHECK(stats.batches == steps && stats.wait_s >= 0 && stats.prepare_s > 0 && stats.last_prepare_s >= 0);
    tf_loader_free(l);
    /* Resume mid-epoch (after 5 steps: epoch 1, cursor 24) at world 2, 3, 4 and 8: the
     * remaining batches match the uninterrupted 1-rank run. */
    int worlds[4] = {2, 3, 4, 8};
    for (int k = 0; k < 4; k++) {
        TfLoader *first = make(ds, B, 0, 2, 1, 0);
        for (int s = 0; s < 5; s++) tf_loader_next(first);
        TfLoaderState mid = tf_loader_state(first);
        tf_loader_free(first);
        CHECK(mid.epoch == 1 && mid.cursor == B);
        int64_t rest[5 * 24];
        collect(ds, B, worlds[k], k % 2, 5, &mid, rest);
        CHECK_MSG(!memcmp(rest, ref + 5 * B, sizeof rest), "resume at world %d differs", worlds[k]);
    }
    /* set_state on a running prefetching loader rewinds it. */
    l = make(ds, B, 1, 4, 3, 0);
    for (int s = 0; s < 3; s++) tf_loader_next(l);
    TfLoaderState zero = {0, 0};
    tf_loader_set_state(l, zero);
    b = tf_loader_next(l);
    CHECK(b->epoch == 0 && b->cursor == 0 && b->example[0] == ref[6] && b->index_in_batch[0] == 6);
    /* A state at the end of an epoch rolls over to the next one. */
    TfLoaderState end = {0, 100};
    tf_loader_set_state(l, end);
    b = tf_loader_next(l);
    CHECK(b->epoch == 1 && b->cursor == 0 && b->example[0] == ref[4 * B + 6]);
    tf_loader_free(l);
}

static void test_pixels_and_flips(const TfDataset *ds) {
    TfLoader *plain = make(ds, 8, 0, 1, 0, 0), *flip = make(ds, 8, 0, 1, 2, 1);
    int flipped = 0, total = 0, ok_plain = 1, ok_flip = 1, ok_key = 1;
    for (int s = 0; s < 12; s++) {
        const TfBatch *a = tf_loader_next(plain);
        float xa[8 * DIM];
        int64_t ea[8];
        memcpy(xa, a->x, sizeof xa);
        memcpy(ea, a->example, sizeof ea);
        const TfBatch *b = tf_loader_next(flip);
        for (int j = 0; j < 8; j++) {
            int64_t ex = ea[j];
            ok_plain &= b->example[j] == ex && a->flipped[j] == 0;
            for (int k = 0; k < DIM; k++) ok_plain &= xa[j * DIM + k] == (float)ds->pixels[ex * DIM + k] / 127.5f - 1.0f;
            TfRng r = tf_rng(1234, TF_STREAM_AUGMENT, (uint64_t)b->epoch, (uint64_t)ex);
            ok_key &= b->flipped[j] == (tf_rng_u32(&r, 0) >> 31);
            flipped += b->flipped[j];
            total++;
            for (int row = 0; row < H; row++)
                for (int x = 0; x < W; x++) {
                    int src = b->flipped[j] ? W - 1 - x : x;
                    ok_flip &= b->x[j * DIM + row * W + x] == xa[j * DIM + row * W + src];
                }
        }
    }
    CHECK_MSG(ok_plain, "pixels are not x / 127.5 - 1 of the right example");
    CHECK_MSG(ok_flip, "flipped rows are not mirrored");
    CHECK_MSG(ok_key, "flips are not keyed by (seed, epoch, example)");
    CHECK_MSG(flipped > total / 4 && flipped < 3 * total / 4, "%d of %d flipped", flipped, total);
    float lo = 1, hi = -1;
    const TfBatch *b = tf_loader_next(plain);
    for (int k = 0; k < 8 * DIM; k++) { if (b->x[k] < lo) lo = b->x[k]; if (b->x[k] > hi) hi = b->x[k]; }
    CHECK(lo >= -1.0f && hi <= 1.0f);
    tf_loader_free(plain);
    tf_loader_free(flip);
}

/* dequantize: each value lies in [k, k + 1) / 127.5 - 1 of its stored pixel k, the noise is
 * keyed (the same for another world size / prefetch, and follows a pixel when it is flipped),
 * it has mean ~1/2 level, and it differs between epochs. */
static void test_dequantize(const TfDataset *ds) {
    TfLoaderConfig c1 = {.ds = ds, .seed = 1234, .global_batch = 8, .rank = 0, .world = 1, .shuffle = 1,
                         .hflip = 1, .prefetch = 0, .dequantize = 1};
    TfLoaderConfig c2 = c1;
    c2.world = 2; c2.rank = 1; c2.prefetch = 2;
    TfLoader *one = tf_loader_create(&c1), *two = tf_loader_create(&c2);
    int ok_range = 1, ok_key = 1, ok_flip = 1, n = 0;
    double sum = 0;
    float first[DIM];
    int64_t first_ex = -1;
    int changed = 0;
    for (int s = 0; s < 30; s++) {
        const TfBatch *a = tf_loader_next(one);
        const TfBatch *b = tf_loader_next(two);
        for (int j = 0; j < 8; j++) {
            int64_t ex = a->example[j];
            for (int row = 0; row < H; row++)
                for (int x = 0; x < W; x++) {
                    int src = a->flipped[j] ? W - 1 - x : x;
                    double k = ds->pixels[ex * DIM + row * W + src];
                    double u = ((double)a->x[j * DIM + row * W + x] + 1.0) * 127.5 - k;
                    ok_range &= u >= -1e-4 && u < 1.0 + 1e-4;
                    sum += u;
                    n++;
                }
            if (j >= 4) /* rank 1 of 2 holds global rows 4..7 */
                ok_key &= b->example[j - 4] == ex && !memcmp(b->x + (j - 4) * DIM, a->x + j * DIM, DIM * sizeof(float));
            if (first_ex < 0) { first_ex = ex; memcpy(first, a->x, sizeof first); }
            else if (ex == first_ex && a->epoch > 0) changed |= memcmp(first, a->x + j * DIM, sizeof first) != 0;
        }
    }
    /* The noise of a pixel does not depend on the flip: compare a flipped with an unflipped load. */
    TfLoaderConfig c3 = c1;
    c3.hflip = 0;
    TfLoader *noflip = tf_loader_create(&c3), *flip = tf_loader_create(&c1);
    for (int s = 0; s < 6; s++) {
        const TfBatch *p = tf_loader_next(noflip);
        float xp[8 * DIM];
        memcpy(xp, p->x, sizeof xp);
        const TfBatch *q = tf_loader_next(flip);
        for (int j = 0; j < 8; j++)
            for (int row = 0; row < H; row++)
                for (int x = 0; x < W; x++) {
                    int src = q->flipped[j] ? W - 1 - x : x;
                    ok_flip &= q->x[j * DIM + row * W + x] == xp[j * DIM + row * W + src];
                }
    }
    CHECK_MSG(ok_range, "a dequantised value left [k, k + 1) / 127.5 - 1");
    CHECK_MSG(ok_key, "rank 1 of 2 (prefetch 2) got other noise than the 1-rank run");
    CHECK_MSG(ok_flip, "the noise of a pixel changed with its flip");
    CHECK_MSG(changed, "example %lld got the same noise in two epochs", (long long)first_ex);
    CHECK_MSG(sum / n > 0.4 && sum / n < 0.6, "mean noise %.3f of a level (want ~0.5)", sum / n);
    tf_loader_free(one);
    tf_loader_free(two);
    tf_loader_free(noflip);
    tf_loader_free(flip);
}

static void die_batch(const void *ds) { make(ds, 10, 0, 3, 0, 0); }
static void die_big(const void *ds) { make(ds, 200, 0, 1, 0, 0); }


int main(void) {
    uint8_t *pixels = malloc(N * DIM), labels[N];
    TfDataset ds = make_dataset(pixels, labels);
    test_permutation();
    test_coverage(&ds);
    test_epochs_and_resume(&ds);
    test_pixels_and_flips(&ds);
    test_dequantize(&ds);
    char out[2048];
    int code = tf_child_run(die_batch, &ds, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "global batch 10 is not divisible by the world size 3"), "code %d: %s", code, out);
    code = tf_child_run(die_big, &ds, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "exceeds the 103 examples"), "code %d: %s", code, out);
    free(pixels);
    return tf_test_finish("test_data_loader");
}
