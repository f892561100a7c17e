/* fuzz_yaml_min.c - libFuzzer target: tf_yaml_get() (src/track/yaml_min.c), the small YAML
 * reader that scans the meta.yaml files already in an MLflow store (written by MLflow or
 * another tool) for `name`, `experiment_id` and `lifecycle_stage`. Input: the document. Also
 * the emitters tf_yaml_scalar/tf_yaml_quoted on what was read, which must read back the same.
 * Seeds: meta.yaml files as MLflow writes them (fuzz/make_corpus.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "track/yaml_min.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    char *doc = tf_fuzz_cstr(data, size);
    static const char *const keys[] = {"name", "experiment_id", "lifecycle_stage", "artifact_location", "run_name",
                                       "status", ""};
    char out[1024], small[8];
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        (void)tf_yaml_get(doc, keys[k], small, sizeof small);
        if (tf_yaml_get(doc, keys[k], out, sizeof out) != 0 || !tf_yaml_printable(out)) continue;
        /* What was read, written back as the only key, reads back the same. */
        TfStrBuf b = {0};
        tf_sb_puts(&b, "key: ");
        if (k & 1) tf_yaml_quoted(&b, out);
        else tf_yaml_scalar(&b, out);
        tf_sb_puts(&b, "\n");
        char back[1024];
        if (tf_yaml_get(b.s, "key", back, sizeof back) != 0 || strcmp(back, out) != 0) {
            fprintf(stderr, "tf_yaml_get/tf_yaml_%s round trip: '%s' came back as '%s' from:\n%s\n",
                    k & 1 ? "quoted" : "scalar", out, back, b.s);
            abort();
        }
        tf_sb_free(&b);
    }
    free(doc);
    return 0;
}
