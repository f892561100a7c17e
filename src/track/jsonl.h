/* jsonl.h - metrics.jsonl: one JSON object per logging call,
 *   {"step":<int>,"time":<unix seconds>,"<key>":<number>,...}
 * appended with one write() per line (so a reader never sees half a line from us) and closed,
 * i.e. on disk for readers after every call. Non-finite values (NaN, +-inf) have no JSON
 * number, so they are written as null. Numbers use the shortest of %.15g/%.17g that
 * round-trips the double.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#ifndef TF_TRACK_JSONL_H
#define TF_TRACK_JSONL_H

#include <stdint.h>

#include "track/util.h"

/* The line (with '\n') for one call, appended to b. */
void tf_jsonl_format(TfStrBuf *b, int64_t step, double time_s, const char *const *keys, const double *values,
                     int n);
/* Format and append the line to path (created if missing). */
void tf_jsonl_append(const char *path, int64_t step, double time_s, const char *const *keys,
                     const double *values, int n);

#endif
