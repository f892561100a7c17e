/* fuzz_override.c - libFuzzer target: command-line overrides, one per input line (empty
 * lines skipped), through the Hydra grammar (tf_override_parse with and without sweeps,
 * tf_override_parse_value), sweep expansion (tf_sweep_expand, when it stays under 1000 jobs), then composition of the
 * real configs/ with those overrides (tf_cfg_compose), validation (tf_cfg_validate) and a
 * resolved dump. Composition only reads files; nothing is written. Seeds: typical override
 * lines (fuzz/make_corpus.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/override.h"
#include "fuzz_common.h"

#define MAX_LINES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    char *text = tf_fuzz_cstr(data, size);
    char *lines[MAX_LINES];
    int n = 0;
    for (char *p = text; n < MAX_LINES;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        if (*p) lines[n++] = p; /* empty lines (e.g. the last newline) are not overrides */
        if (!nl) break;
        p = nl + 1;
    }
    TfCfgError err;
    size_t jobs = 1;
    int sweep_ok = 1;
    for (int k = 0; k < n; k++) {
        TfOverride ov;
        err.msg[0] = '\0';
        if (tf_override_parse(lines[k], 0, &ov, &err) == 0) {
            if (ov.n_choices) abort(); /* no sweeps without -m */
            tf_override_free(&ov);
        } else if (!err.msg[0]) {
            abort();
        }
        if (tf_override_parse(lines[k], 1, &ov, &err) == 0) {
            if (ov.n_choices) jobs = jobs > 1000 / ov.n_choices ? 1001 : jobs * ov.n_choices;
            tf_override_free(&ov);
        } else {
            sweep_ok = 0;
        }
        TfCfgNode *v = NULL;
        if (tf_override_parse_value(lines[k], &v, &err) == 0) tf_node_free(v);
    }
    if (sweep_ok && jobs <= 1000) {
        TfSweep sw;
        if (tf_sweep_expand((const char *const *)lines, n, &sw, &err) == 0) {
            if (sw.n_jobs != jobs) abort();
            tf_sweep_free(&sw);
        }
    }
    TfCfg *cfg = NULL;
    if (tf_cfg_compose(tf_fuzz_config_dir(), "config", (const char *const *)lines, n, &cfg, &err) == 0) {
        (void)tf_cfg_validate(cfg, 1, &err);
        (void)tf_cfg_validate(cfg, 3, &err);
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            (void)tf_cfg_dump(cfg, null, 1, &err);
            fclose(null);
        }
        tf_cfg_destroy(cfg);
    } else if (cfg) {
        abort();
    }
    free(text);
    return 0;
}
