/* path.h - the affine probability path on plain float arrays.
 *
 *   x_t = alpha_t x1 + sigma_t x0,   dx_t = alpha'_t x1 + sigma'_t x0     (t = 0 noise, t = 1 data)
 *
 * Sampling (x_t, dx_t) with one t per sample, conversions between the three equivalent
 * model outputs (velocity, data x1, noise x0), and the scale-time map that lets a model
 * trained under one scheduler sample under another. Must not know about models, solvers,
 * ranks or randomness (the draws live in draw.h).
 *
 * Arrays are [n][dim] row-major; t is [n] (one time per sample) unless the name ends in _at.
 */
#ifndef TF_FLOW_PATH_H
#define TF_FLOW_PATH_H

#include <stddef.h>

#include "flow/scheduler.h"

/* x_t and the conditional target velocity dx_t for n samples. xt / dxt may be NULL (skip). */
void tf_path_sample(const TfScheduler *s, int n, int dim, const float *t, const float *x0,
                    const float *x1, float *xt, float *dxt);

/* What a network predicts. */
typedef enum { TF_PRED_VELOCITY = 0, TF_PRED_X1, TF_PRED_X0 } TfPrediction;

/* Convert a prediction `in` of kind `from` at (x_t, t) into kind `to` (out may alias in).
 * With D_t = alpha'_t sigma_t - sigma'_t alpha_t:
 *   x1 = (sigma v - sigma' x_t) / D        x0 = (alpha' x_t - alpha v) / D
 *   v  = (sigma'/sigma) x_t + (D/sigma) x1 v  = (alpha'/alpha) x_t - (D/alpha) x0
 *   x1 = (x_t - sigma x0) / alpha          x0 = (x_t - alpha x1) / sigma
 * A conversion is undefined where its denominator vanishes: from x1 needs sigma != 0 (not at t = 1
 * for sigma_min = 0), from x0 needs alpha != 0 (not at t = 0), from v needs a finite D (not at t = 1
 * for LINEAR_VP and VP). The result is then inf/NaN; callers keep t inside the open interval. */
void tf_path_convert(const TfScheduler *s, TfPrediction from, TfPrediction to, int n, int dim,
                     const float *t, const float *xt, const float *in, float *out);
/* Same with one t for all `count` numbers. */
void tf_path_convert_at(const TfScheduler *s, TfPrediction from, TfPrediction to, double t,
                        size_t count, const float *xt, const float *in, float *out);

/* Scale-time map from a model trained under `trained` (alpha, sigma) to sampling under
 * `target` (alpha-bar, sigma-bar) at target time r (Lipman et al. 2024, schedule transform):
 *   t_r = rho^-1(rho-bar(r)),  s_r = sigma-bar_r / sigma_{t_r} (= alpha-bar_r / alpha_{t_r}),
 *   dt/dr = D-bar_r / (s_r^2 D_{t_r}),  ds/dr from the sigma (or alpha) form, whichever is better
 *   conditioned,  and the transformed velocity
 *   u-bar_r(x) = (ds/s) x + s (dt/dr) u_{t_r}(x / s).
 * See velocity.h (tf_schedule_transform_init) for the model wrapper that applies it. */
typedef struct {
    double t;  /* time at which the trained model is evaluated */
    double s;  /* x-bar = s x */
    double dt; /* dt/dr */
    double ds; /* ds/dr */
} TfScheduleMap;
TfScheduleMap tf_schedule_map(const TfScheduler *trained, const TfScheduler *target, double r);

/* The DDIM step coefficients: predicting x1 and x0 from v at time t and re-noising to time s gives
 *   x_s = alpha_s x1-hat + sigma_s x0-hat = a x_t + b v,
 *   a = (sigma_s alpha'_t - alpha_s sigma'_t) / D_t,  b = (alpha_s sigma_t - sigma_s alpha_t) / D_t.
 * For CondOT a = 1 and b = s - t: the step is exactly Euler. */
void tf_path_ddim_coeffs(const TfScheduler *sch, double t, double s, double *a, double *b);

#endif
