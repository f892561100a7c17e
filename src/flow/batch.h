/* batch.h - one flow-matching training batch from data rows: t, noise, coupling, x_t, target.
 *
 *   t ~ time sampler, x0 ~ N(0, I) (TF_STREAM_NOISE), optionally re-paired by minibatch OT,
 *   x_t = alpha_t x1 + sigma_t x0, target = alpha'_t x1 + sigma'_t x0, labels dropped for CFG.
 * All draws are keyed by (seed, step, GLOBAL sample index) (draw.h); with the independent coupling
 * a 2-rank run therefore builds exactly the rows of a 1-rank run. With OT the pairing depends on
 * which rows are solved together: see coupling.h for the per-rank vs global trade-off (to do it
 * globally, gather x1 and call this with the global batch, then keep the local rows).
 * Must not know about models, losses or ranks.
 */
#ifndef TF_FLOW_BATCH_H
#define TF_FLOW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "flow/coupling.h"
#include "flow/draw.h"
#include "flow/scheduler.h"

typedef struct {
    TfScheduler sched;
    TfTimeSampler time;
    TfCoupling coupling;
    double label_drop; /* probability of replacing a label by the null class num_classes */
    int num_classes;   /* needed when labels are passed */
} TfFlowBatchSpec;

/* CondOT path, t ~ U[0, 1], independent coupling, no label dropout. */
TfFlowBatchSpec tf_flow_batch_spec(void);

size_t tf_flow_batch_workspace_bytes(const TfFlowBatchSpec *spec, int n, int dim);

/* Rows first .. first+n-1 of the global batch at `step`. Outputs: t[n], x0[n][D] (the noise each data
 * row is paired with), xt[n][D], target[n][D], labels_out[n] (only when labels_in != NULL; may alias).
 * work: tf_flow_batch_workspace_bytes() bytes, or NULL to allocate inside (not inside a step). */
void tf_flow_batch(const TfFlowBatchSpec *spec, uint64_t seed, uint64_t step, uint64_t first, int n, int dim,
                   const float *x1, const int *labels_in, float *t, float *x0, float *xt, float *target,
                   int *labels_out, void *work);

#endif
