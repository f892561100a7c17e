/* path.c - affine path sampling, prediction conversions, schedule map and DDIM coefficients
 * (see path.h). Plain arrays and scheduler maths; knows nothing about models or solvers. */
#include "flow/path.h"

#include <math.h>

#include "core/check.h"

void tf_path_sample(const TfScheduler *s, int n, int dim, const float *t, const float *x0,
                    const float *x1, float *xt, float *dxt) {
    if (n < 0 || dim <= 0) tf_die_usage("pass n >= 0 samples of dim >= 1 numbers", "tf_path_sample: n = %d, dim = %d", n, dim);
    for (int b = 0; b < n; b++) {
        TfSchedValues v = tf_scheduler_eval(s, (double)t[b]);
        const float *a0 = x0 + (size_t)b * dim, *a1 = x1 + (size_t)b * dim;
        if (xt) {
            float *o = xt + (size_t)b * dim;
            for (int i = 0; i < dim; i++) o[i] = (float)(v.alpha * a1[i] + v.sigma * a0[i]);
        }
        if (dxt) {
            float *o = dxt + (size_t)b * dim;
            for (int i = 0; i < dim; i++) o[i] = (float)(v.d_alpha * a1[i] + v.d_sigma * a0[i]);
        }
    }
}

/* out = cx * x_t + ci * in for the conversion from -> to at schedule values v. */
static void convert_coeffs(const TfSchedValues *v, TfPrediction from, TfPrediction to, double *cx, double *ci) {
    double D = v->d_alpha * v->sigma - v->d_sigma * v->alpha;
    if (from == to) { *cx = 0.0; *ci = 1.0; return; }
    if (from == TF_PRED_VELOCITY && to == TF_PRED_X1) { *cx = -v->d_sigma / D; *ci = v->sigma / D; }
    else if (from == TF_PRED_VELOCITY && to == TF_PRED_X0) { *cx = v->d_alpha / D; *ci = -v->alpha / D; }
    else if (from == TF_PRED_X1 && to == TF_PRED_VELOCITY) { *cx = v->d_sigma / v->sigma; *ci = D / v->sigma; }
    else if (from == TF_PRED_X0 && to == TF_PRED_VELOCITY) { *cx = v->d_alpha / v->alpha; *ci = -D / v->alpha; }
    else if (from == TF_PRED_X0 && to == TF_PRED_X1) { *cx = 1.0 / v->alpha; *ci = -v->sigma / v->alpha; }
    else if (from == TF_PRED_X1 && to == TF_PRED_X0) { *cx = 1.0 / v->sigma; *ci = -v->alpha / v->sigma; }
    else tf_die_usage("use TF_PRED_VELOCITY, TF_PRED_X1 or TF_PRED_X0", "unknown prediction kinds %d -> %d", (int)from, (int)to);
}

void tf_path_convert_at(const TfScheduler *s, TfPrediction from, TfPrediction to, double t,
                        size_t count, const float *xt, const float *in, float *out) {
    TfSchedValues v = tf_scheduler_eval(s, t);
    double cx, ci;
    convert_coeffs(&v, from, to, &cx, &ci);
    for (size_t i = 0; i < count; i++) out[i] = (float)(cx * xt[i] + ci * in[i]);
}

void tf_path_convert(const TfScheduler *s, TfPrediction from, TfPrediction to, int n, int dim,
                     const float *t, const float *xt, const float *in, float *out) {
    if (n < 0 || dim <= 0) tf_die_usage("pass n >= 0 samples of dim >= 1 numbers", "tf_path_convert: n = %d, dim = %d", n, dim);
    for (int b = 0; b < n; b++) {
        size_t o = (size_t)b * dim;
        tf_path_convert_at(s, from, to, (double)t[b], (size_t)dim, xt + o, in + o, out + o);
    }
}

TfScheduleMap tf_schedule_map(const TfScheduler *trained, const TfScheduler *target, double r) {
    TfSchedValues nb = tf_scheduler_eval(target, r);
    if (nb.alpha == 0.0 && nb.sigma == 0.0)
        tf_die_usage("the target schedule must not have alpha = sigma = 0", "schedule map at r = %g: alpha and sigma both 0", r);
    double rho = nb.sigma > 0.0 ? nb.alpha / nb.sigma : INFINITY;
    TfScheduleMap m;
    m.t = tf_scheduler_snr_inverse(trained, rho);
    TfSchedValues o = tf_scheduler_eval(trained, m.t);
    int use_sigma = o.sigma >= o.alpha; /* the better-conditioned denominator */
    m.s = use_sigma ? nb.sigma / o.sigma : nb.alpha / o.alpha;
    double Dn = nb.d_alpha * nb.sigma - nb.d_sigma * nb.alpha;
    double Do = o.d_alpha * o.sigma - o.d_sigma * o.alpha;
    m.dt = Dn / (m.s * m.s * Do);
    m.ds = use_sigma ? (nb.d_sigma * o.sigma - nb.sigma * o.d_sigma * m.dt) / (o.sigma * o.sigma)
                     : (nb.d_alpha * o.alpha - nb.alpha * o.d_alpha * m.dt) / (o.alpha * o.alpha);
    return m;
}

void tf_path_ddim_coeffs(const TfScheduler *sch, double t, double s, double *a, double *b) {
    TfSchedValues vt = tf_scheduler_eval(sch, t), vs = tf_scheduler_eval(sch, s);
    double D = vt.d_alpha * vt.sigma - vt.d_sigma * vt.alpha;
    if (!(isfinite(D) && D != 0.0))
        tf_die_usage("keep the DDIM grid's current times inside the schedule's open interval",
                     "DDIM at t = %g: D_t = alpha' sigma - sigma' alpha = %g is not usable", t, D);
    *a = (vs.sigma * vt.d_alpha - vs.alpha * vt.d_sigma) / D;
    *b = (vs.alpha * vt.sigma - vs.sigma * vt.alpha) / D;
}
