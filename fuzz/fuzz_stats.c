/* fuzz_stats.c - libFuzzer target: a reference-statistics cache file (.tfstats: header,
 * tag, mean, scatter matrix, optional float32 feature rows, CRC-32) through tf_stats_load()
 * of src/eval/stats.c, which `tinyflow fid` reads before scoring. Seeds: caches written by
 * tf_stats_save (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "eval/stats.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    const char *path = tf_fuzz_file(0, data, size);
    TfStats s;
    char tag[256], err[512] = "";
    float *feat = NULL;
    int n_feat = 0;
    if (tf_stats_load(path, &s, tag, sizeof tag, &feat, &n_feat, err, sizeof err) != 0) {
        if (feat || !err[0]) abort();
        return 0;
    }
    if (s.d < 1 || s.d > TF_STATS_MAX_DIM || n_feat < 0 || (n_feat && !feat)) abort();
    free(feat);
    tf_stats_free(&s);
    return 0;
}
