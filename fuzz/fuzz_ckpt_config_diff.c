/* fuzz_ckpt_config_diff.c - libFuzzer target: the line-based YAML reader of
 * tf_ckpt_config_diff() (src/ckpt/signature.c), which parses the config text stored inside
 * a checkpoint to name the first differing model.* key when a resume does not fit. Input:
 * the checkpoint's text, optionally followed by a NUL and "this" config's text (default: a
 * real composed config); both orders, with the "model" prefix and without, and a short
 * message buffer. Seeds: the dumped configs (fuzz/make_corpus.sh). */
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt.h"
#include "fuzz_common.h"

static const char k_this[] =
    "model:\n  name: unet\n  in_ch: 1\n  image_size: 28\n  base_ch: 32\n  ch_mult: [1, 2, 2]\n"
    "  attn_res: [7]\n  dropout: 0.1\ndataset:\n  name: mnist\n  batch_size: 128\n"
    "defaults:\n- model: unet\n- _self_\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    char *a = tf_fuzz_cstr(data, size);
    size_t la = strlen(a);
    const char *b = la + 1 <= size ? a + la + 1 : k_this; /* text after the first NUL, if any */
    char out[600];
    (void)tf_ckpt_config_diff(a, b, "model", out, sizeof out);
    (void)tf_ckpt_config_diff(b, a, NULL, out, 16); /* all keys, a short message buffer */
    (void)tf_ckpt_config_hash(a);
    free(a);
    return 0;
}
