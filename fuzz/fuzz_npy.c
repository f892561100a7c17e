/* fuzz_npy.c - libFuzzer target: a .npy array (the sample file `tinyflow fid` scores, and
 * what pytorch-fid statistics hold) through both readers of src/eval/npy.c:
 * tf_npy_decode() on the bytes and tf_npy_read() on the same bytes as a file. They must agree:
 * both fail, or both succeed with the same dtype, shape and data. Seeds: arrays written by
 * tf_npy_encode (float32 samples, float64, ints, uint8) (fuzz/make_corpus.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/npy.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    TfNpy a, b;
    char ea[512] = "", eb[512] = "";
    int ra = tf_npy_decode(data, size, "fuzz.npy", &a, ea, sizeof ea);
    int rb = tf_npy_read(tf_fuzz_file(0, data, size), &b, eb, sizeof eb);
    if ((ra != 0 && !ea[0]) || (rb != 0 && !eb[0])) abort();
    if ((ra == 0) != (rb == 0)) {
        fprintf(stderr, "tf_npy_decode %s but tf_npy_read %s (%s%s)\n", ra ? "failed" : "succeeded",
                rb ? "failed" : "succeeded", ea, eb);
        abort();
    }
    if (ra == 0) {
        if (strcmp(a.descr, b.descr) || a.ndim != b.ndim || a.numel != b.numel || a.itemsize != b.itemsize ||
            memcmp(a.shape, b.shape, sizeof a.shape) || (a.numel && memcmp(a.data, b.data, a.numel * a.itemsize)))
            abort();
        size_t numel = 1;
        for (int d = 0; d < a.ndim; d++) numel *= (size_t)a.shape[d];
        if (numel != a.numel) abort();
        tf_npy_free(&a);
        tf_npy_free(&b);
    }
    return 0;
}
