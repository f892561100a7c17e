/* jsonl.c - metrics.jsonl lines (jsonl.h).
 * This file must not know about models, MPI, training or the other tracking sinks. */
#include "track/jsonl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void json_number(TfStrBuf *b, double v) {
    if (!isfinite(v)) {
        tf_sb_puts(b, "null");
        return;
    }
    char s[40];
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v) snprintf(s, sizeof s, "%.17g", v);
    tf_sb_puts(b, s);
}

void tf_jsonl_format(TfStrBuf *b, int64_t step, double time_s, const char *const *keys, const double *values,
                     int n) {
    tf_sb_printf(b, "{\"step\":%lld,\"time\":%.3f", (long long)step, time_s);
    for (int i = 0; i < n; i++) {
        tf_sb_puts(b, ",");
        tf_sb_json_string(b, keys[i]);
        tf_sb_puts(b, ":");
        json_number(b, values[i]);
    }
    tf_sb_puts(b, "}\n");
}

void tf_jsonl_append(const char *path, int64_t step, double time_s, const char *const *keys,
                     const double *values, int n) {
    TfStrBuf b = {0};
    tf_jsonl_format(&b, step, time_s, keys, values, n);
    tf_track_append(path, b.s, b.len);
    tf_sb_free(&b);
}
