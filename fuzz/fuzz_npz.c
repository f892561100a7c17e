/* fuzz_npz.c - libFuzzer target: an .npz archive (pytorch-fid reference statistics: a zip
 * of mu.npy and sigma.npy, stored or deflated) through tf_npz_read() for both members (zip
 * end record, central directory, local headers, inflate, CRC-32, then the .npy inside).
 * Seeds: archives written by tf_npz_write_stats, and a deflated one (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "eval/npy.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    const char *path = tf_fuzz_file(0, data, size);
    static const char *const members[] = {"mu", "sigma.npy"};
    for (int k = 0; k < 2; k++) {
        TfNpy a;
        char err[512] = "";
        if (tf_npz_read(path, members[k], &a, err, sizeof err) == 0) tf_npy_free(&a);
        else if (!err[0]) abort();
    }
    return 0;
}
