/* fuzz_cifar.c - libFuzzer target: a CIFAR-10 binary batch (records of 1 label byte + 3072
 * pixel bytes) through tf_cifar_read_batch(), with the record count the file's size implies
 * and with wrong counts (one more, zero, negative). Seeds: a few real-format records
 * (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "data/readers.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    const char *path = tf_fuzz_file(0, data, size);
    int64_t records = (int64_t)(size / TF_CIFAR_RECORD);
    if (records < 1) records = 1;
    uint8_t *pixels = malloc((size_t)(records + 1) * 3072);
    uint8_t *labels = malloc((size_t)records + 1);
    if (!pixels || !labels) abort();
    char err[1024] = "";
    if (tf_cifar_read_batch(path, records, pixels, labels, err, sizeof err) == 0) {
        for (int64_t i = 0; i < records; i++)
            if (labels[i] > 9) abort(); /* the label range was checked */
    } else if (!err[0]) {
        abort();
    }
    if (tf_cifar_read_batch(path, records + 1, pixels, labels, err, sizeof err) == 0) abort(); /* wrong size */
    if (tf_cifar_read_batch(path, 0, pixels, labels, err, sizeof err) == 0) abort();
    if (tf_cifar_read_batch(path, -1, pixels, labels, err, sizeof err) == 0) abort();
    free(pixels);
    free(labels);
    return 0;
}
