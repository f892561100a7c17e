/* gmm.h - the exact marginal velocity field of Gaussian-mixture data (an "oracle model").
 *
 * For data x1 ~ sum_k pi_k N(m_k, s_k^2 I) and the affine path x_t = alpha x1 + sigma x0 the
 * marginal p_t is sum_k pi_k N(alpha m_k, v_k I), v_k = alpha^2 s_k^2 + sigma^2, and the marginal
 * velocity E[dx_t | x_t = x] is closed-form:
 *   u(x, t) = sum_k w_k(x) [alpha' m_k + c_k (x - alpha m_k)],  c_k = (alpha' alpha s_k^2 + sigma' sigma) / v_k,
 *   w_k(x) = posterior of component k under p_t.
 * So sampling this field from N(0, I) at t = 0 reproduces the mixture exactly (for schedules with
 * alpha_0 = 0, sigma_0 = 1). It is a TfVelocityModel with an exact VJP: a stand-in for a trained
 * network in tests, toy runs and as the Bayes-optimal reference of the training loss.
 * Must not know about solvers or the engine. sigma' sigma is taken as (sigma^2)'/2, so the field is
 * finite at t = 1 also for LINEAR_VP and VP (where sigma' alone is infinite).
 */
#ifndef TF_FLOW_GMM_H
#define TF_FLOW_GMM_H

#include <stdint.h>

#include "flow/scheduler.h"
#include "flow/velocity.h"

typedef struct {
    int k, dim;
    const float *means;   /* [k][dim] (borrowed) */
    const float *stds;    /* [k], > 0 (borrowed) */
    const float *weights; /* [k], >= 0, need not sum to 1 (borrowed) */
} TfGmm;

typedef struct {
    TfVelocityModel model; /* unconditional (labels ignored), no batch limit */
    TfGmm gmm;
    TfScheduler sched;
    double *scratch; /* 3 k + 2 dim doubles */
} TfGmmField;

/* Do not move or copy *f after init (f->model.ctx points to it). */
void tf_gmm_field_init(TfGmmField *f, const TfGmm *g, const TfScheduler *s);
void tf_gmm_field_free(TfGmmField *f);

/* log p_t(x) of the path's marginal at time t (t = 1: the mixture itself). */
double tf_gmm_log_density(const TfGmm *g, const TfScheduler *s, double t, const float *x);

/* n samples of the mixture for global indices first.. (stream TF_STREAM_TOY). */
void tf_gmm_sample(const TfGmm *g, uint64_t seed, uint64_t step, uint64_t first, int n, float *x);

#endif
