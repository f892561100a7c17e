/* likelihood.h - log-densities of a flow model by the instantaneous change of variables.
 *
 * For data x1, integrate the augmented ODE backwards from t = grid[0] (= 1, data) to grid[n-1] (= 0,
 * noise):   dx/dt = u_t(x),   dl/dt = div u_t(x),   x(1) = x1, l(1) = 0,
 * then      log p1(x1) = log N(x(0); 0, I) + l(0)       (l(0) = -int_0^1 div u dt).
 * The divergence is either
 *  - exact: sum_i d u_i / d x_i from D vector-Jacobian products per evaluation (small D only), or
 *  - Hutchinson: z^T (du/dx) z = ((du/dx)^T z) . z with Rademacher probes z that stay FIXED for the
 *    whole integration (one VJP per probe per evaluation). K probes per sample share the x
 *    trajectory and are averaged (the estimate of log p is unbiased for any K; its variance ~ 1/K).
 * The model must provide velocity_vjp. log N(.; 0, I) is the standard normal: with a schedule whose
 * t = 0 marginal is not exactly N(0, I) (VP: alpha_0 = e^-5 for beta_max = 20) that is the usual
 * approximation. Must not know about the engine or about images beyond tf_bits_per_dim.
 */
#ifndef TF_FLOW_LIKELIHOOD_H
#define TF_FLOW_LIKELIHOOD_H

#include <stdint.h>

#include "flow/grid.h"
#include "flow/solver.h"
#include "flow/velocity.h"

typedef struct {
    TfSolverOpts solver; /* any solver but DDIM; default DOPRI5, atol = rtol = 1e-5 */
    int exact;           /* 1: exact divergence, 0: Hutchinson (default) */
    int num_probes;      /* Hutchinson probes per sample (default 1) */
    uint64_t probe_seed; /* probe k of sample i: tf_draw_rademacher(probe_seed, probe_step, first + i, .., k) */
    uint64_t probe_step;
    uint64_t first;      /* global index of row 0 (so sharded evaluation draws the same probes) */
} TfLikelihoodOpts;

TfLikelihoodOpts tf_likelihood_opts(void);

/* logp[i] = log p1(x1[i]) in nats for n samples. g must be strictly decreasing, normally from 1 to 0
 * (tf_grid_uniform(1, 0, steps), or any sampling grid after tf_grid_reverse); x at its last point is
 * scored under N(0, I). Allocates its workspace once per call. stats (may be NULL): nfe counts
 * augmented-field evaluations, vjps the VJP calls of the whole batch (D or K per evaluation). */
void tf_log_likelihood(const TfVelocityModel *m, const TfLikelihoodOpts *o, const TfGrid *g, int n,
                       const int *labels, const float *x1, double *logp, TfSolveStats *stats);

/* Bits per dimension of discrete data from the log-density of its dequantised, rescaled version.
 * With pixel levels k in {0..255}, dequantised y = k + u (u ~ U[0,1)) and model data x = a y + c,
 * the change of variables gives  log P(k) >= E_u[log p_x(x)] + D log a,  so
 *     bpd = -(log p_x(x) + D ln a) / (D ln 2).
 * `scale` is a = one pixel level in model units, the scale given to tf_draw_dequantize_u8:
 * 1/128 for x = (k + u)/128 - 1 (bpd = -log p / (D ln 2) + 7), 1/127.5 for x = (k + u)/127.5 - 1.
 * A density uniform on [-1, 1]^D (log p = -D ln 2) gives exactly 8 bits with scale 1/128. */
#define TF_BPD_SCALE_U8 (1.0 / 128.0)
double tf_bits_per_dim(double logp, int dim, double scale);

#endif
