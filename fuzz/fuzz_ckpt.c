/* fuzz_ckpt.c - libFuzzer target: a whole checkpoint file, byte for byte, through
 * tf_ckpt_load() (header, framed manifest, tensor records, payloads, footer; every cap and
 * checksum), then what a resume does with a loaded checkpoint (ckpt_use.c: name lookups,
 * signature check with the config-text diff, describe). Seeds: files written by
 * tf_ckpt_save (fuzz/make_corpus.sh). Checksums stop most mutations early here;
 * fuzz_ckpt_framed.c repairs them to reach deeper. */
#include "ckpt_use.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    tf_fuzz_ckpt_use(tf_fuzz_file(0, data, size));
    return 0;
}
