/* report.h - report.html: one self-contained page (no external URLs, no scripts) with a run
 * summary table (params and the latest value of every scalar), an inline SVG line plot per
 * logged scalar key (log10 y axis for keys containing "loss" when asked), the latest image
 * grid and the previous ones as data:image/png;base64 URIs.
 * State is bounded: at most TF_REPORT_MAX_SERIES keys, each thinned to at most
 * TF_REPORT_MAX_POINTS points (every other point dropped when full, the sampling stride
 * doubled; the newest point is always shown), the TF_REPORT_MAX_IMAGES newest grids (each at
 * most TF_REPORT_MAX_IMAGE_BYTES of PNG), TF_REPORT_MAX_PARAMS params.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#ifndef TF_TRACK_REPORT_H
#define TF_TRACK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "track/util.h"

#define TF_REPORT_MAX_SERIES 64
#define TF_REPORT_MAX_POINTS 2048
#define TF_REPORT_MAX_IMAGES 8
#define TF_REPORT_MAX_IMAGE_BYTES (8u << 20)
#define TF_REPORT_MAX_PARAMS 256

/* Plot colours, in the order keys are first logged (cycled). */
#define TF_REPORT_COLOURS {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

typedef struct TfReport TfReport;

TfReport *tf_report_new(const char *title, int log_loss);
/* Set or replace a row of the summary table. */
void tf_report_param(TfReport *r, const char *key, const char *value);
/* Append a point to key's series (keys past the cap are counted, not stored). */
void tf_report_scalar(TfReport *r, const char *key, int64_t step, double value);
/* Remember a PNG grid (copied) shown with its tag and step; the oldest beyond the cap is dropped. */
void tf_report_image(TfReport *r, const char *tag, int64_t step, const unsigned char *png, size_t size,
                     int width, int height);
/* The page as a string / written atomically to path (temp file, fsync, rename). */
void tf_report_render(const TfReport *r, TfStrBuf *out);
void tf_report_write(const TfReport *r, const char *path);
void tf_report_free(TfReport *r);

/* Points currently held for key (after thinning), or -1 when the key is unknown. */
int tf_report_points(const TfReport *r, const char *key);

#endif
