/* fuzz_idx_pair.c - libFuzzer target: an images file and a labels file (IDX, plain or gzip)
 * through tf_idx_read_pair(), which checks ranks, counts and the label range.
 * Input layout: u32le L, then L bytes of the images file, then the labels file (L is
 * clamped to what is there). Seeds: matching and mismatching pairs (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "data/readers.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    if (size < 4) return 0;
    size_t len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    if (len > size - 4) len = size - 4;
    const char *images = tf_fuzz_file(0, data + 4, len);
    const char *labels = tf_fuzz_file(1, data + 4 + len, size - 4 - len);
    int64_t n = 0;
    int h = 0, w = 0;
    uint8_t *pixels = NULL, *lab = NULL;
    char err[1024] = "";
    if (tf_idx_read_pair(images, labels, 10, &n, &h, &w, &pixels, &lab, err, sizeof err) != 0) {
        if (!err[0]) abort();
        return 0;
    }
    if (n < 1 || h < 1 || w < 1 || !pixels || !lab) abort();
    for (int64_t i = 0; i < n; i++)
        if (lab[i] >= 10) abort(); /* the label range was checked */
    volatile uint8_t sink = pixels[(size_t)n * (size_t)h * (size_t)w - 1];
    (void)sink;
    free(pixels);
    free(lab);
    return 0;
}
