/* scheduler.h - the noise schedules (alpha_t, sigma_t) of affine probability paths.
 *
 * Convention of all of flow/: t = 0 is noise x0 ~ N(0, I), t = 1 is data x1, and
 *   x_t = alpha_t x1 + sigma_t x0,   dx_t/dt = alpha'_t x1 + sigma'_t x0.
 * A scheduler gives alpha, sigma, their time derivatives, and the inverse of the
 * signal-to-noise ratio rho = alpha / sigma (needed by the schedule transform).
 * Pure scalar maths in double; must not know about arrays, models or randomness.
 */
#ifndef TF_FLOW_SCHEDULER_H
#define TF_FLOW_SCHEDULER_H

typedef enum {
    TF_SCHED_CONDOT = 0,  /* alpha = t, sigma = 1 - (1 - sigma_min) t  (Linear / CondOT; Lipman's OT path if sigma_min > 0) */
    TF_SCHED_POLYNOMIAL,  /* alpha = t^n, sigma = 1 - t^n */
    TF_SCHED_COSINE,      /* alpha = sin(pi t / 2), sigma = cos(pi t / 2) */
    TF_SCHED_LINEAR_VP,   /* alpha = t, sigma = sqrt(1 - t^2) */
    TF_SCHED_VP           /* alpha = exp(-T/2), sigma = sqrt(1 - exp(-T)), T = (1-t)^2 (bmax-bmin)/2 + (1-t) bmin */
} TfSchedKind;

typedef struct {
    TfSchedKind kind;
    double sigma_min;          /* CONDOT only, in [0, 1) */
    double n;                  /* POLYNOMIAL only, > 0 */
    double beta_min, beta_max; /* VP only, 0 <= beta_min < beta_max */
} TfScheduler;

typedef struct {
    double alpha, sigma, d_alpha, d_sigma; /* d_ = d/dt */
} TfSchedValues;

/* Constructors (they validate their argument and die naming the bad value). */
TfScheduler tf_scheduler_condot(void);                /* Linear: alpha = t, sigma = 1 - t */
TfScheduler tf_scheduler_ot(double sigma_min);        /* Lipman et al. 2022 OT path */
TfScheduler tf_scheduler_polynomial(double n);
TfScheduler tf_scheduler_cosine(void);
TfScheduler tf_scheduler_linear_vp(void);
TfScheduler tf_scheduler_vp(double beta_min, double beta_max); /* reference defaults 0.1, 20 */

/* alpha, sigma and derivatives at t. Defined on [0, 1]; some derivatives are infinite at an
 * end point (LINEAR_VP and VP: sigma' = -inf at t = 1; POLYNOMIAL with n < 1: alpha' = inf at t = 0). */
TfSchedValues tf_scheduler_eval(const TfScheduler *s, double t);

/* The t with alpha_t / sigma_t = snr (snr >= 0, +inf allowed and gives the t where sigma = 0).
 * VP extends its formula below t = 0 when snr < alpha_0 / sigma_0 (snr = 0 gives -inf). */
double tf_scheduler_snr_inverse(const TfScheduler *s, double snr);

/* "condot", "ot:<sigma_min>", "polynomial:<n>", "cosine", "linear_vp", "vp" or
 * "vp:<beta_min>:<beta_max>". Returns 0 and fills *out, or -1 for an unknown/bad name. */
int tf_scheduler_parse(const char *name, TfScheduler *out);
/* Writes the canonical name (parseable by tf_scheduler_parse) into buf; returns buf. */
const char *tf_scheduler_name(const TfScheduler *s, char *buf, int len);

#endif
