/* fuzz_idx.c - libFuzzer target: one IDX file (MNIST format; plain, or gzip through zlib's
 * gzopen, which detects the compression itself) through tf_idx_read(). A file that loads
 * must hold exactly product(dims) bytes. Seeds: small IDX files, plain and .gz
 * (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "data/readers.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    const char *path = tf_fuzz_file(0, data, size);
    TfIdx idx;
    char err[1024] = "";
    if (tf_idx_read(path, &idx, err, sizeof err) != 0) {
        if (idx.data || !err[0]) abort(); /* failure leaves nothing allocated and says why */
        return 0;
    }
    size_t total = 1;
    for (int d = 0; d < idx.ndim; d++) total *= idx.dims[d];
    if (idx.ndim < 1 || idx.ndim > 4 || total != idx.size || !idx.data) abort();
    volatile uint8_t sink = idx.data[0] ^ idx.data[idx.size - 1]; /* the whole buffer is ours */
    (void)sink;
    tf_idx_free(&idx);
    return 0;
}
