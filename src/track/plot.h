/* plot.h - one inline SVG line plot (step on x, value on y, linear or log10 y axis) for the
 * self-contained report.html: axes, "nice" ticks with labels, a title, and the series drawn as
 * polylines in one colour, broken where a value is not finite (or not positive on a log axis).
 * This file must not know about models, MPI, training or the other tracking sinks. */
#ifndef TF_TRACK_PLOT_H
#define TF_TRACK_PLOT_H

#include <stdint.h>

#include "track/util.h"

#define TF_PLOT_WIDTH 560
#define TF_PLOT_HEIGHT 250

/* Append an <svg> element plotting (steps[i], values[i]), i < n, in colour (e.g. "#1f77b4"). */
void tf_plot_svg(TfStrBuf *b, const char *title, const int64_t *steps, const double *values, int n, int log_y,
                 const char *colour);

/* Up to max "nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi] into ticks; count returned. */
int tf_plot_ticks(double lo, double hi, double *ticks, int max);

#endif
