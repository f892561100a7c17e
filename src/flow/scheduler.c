/* scheduler.c - alpha/sigma schedules, their derivatives and SNR inverses (see scheduler.h).
 * Scalar double maths only; knows nothing about arrays, models or randomness. */
#include "flow/scheduler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#define TF_PI 3.14159265358979323846

TfScheduler tf_scheduler_condot(void) { return tf_scheduler_ot(0.0); }

TfScheduler tf_scheduler_ot(double sigma_min) {
    if (!(sigma_min >= 0.0 && sigma_min < 1.0))
        tf_die_usage("use a sigma_min in [0, 1), e.g. 0 (CondOT) or 1e-4",
                     "OT path sigma_min = %g is outside [0, 1)", sigma_min);
    TfScheduler s = {TF_SCHED_CONDOT, sigma_min, 0, 0, 0};
    return s;
}

TfScheduler tf_scheduler_polynomial(double n) {
    if (!(n > 0.0 && isfinite(n)))
        tf_die_usage("use a positive finite exponent, e.g. 2", "polynomial scheduler n = %g must be > 0", n);
    TfScheduler s = {TF_SCHED_POLYNOMIAL, 0, n, 0, 0};
    return s;
}

TfScheduler tf_scheduler_cosine(void) {
    TfScheduler s = {TF_SCHED_COSINE, 0, 0, 0, 0};
    return s;
}

TfScheduler tf_scheduler_linear_vp(void) {
    TfScheduler s = {TF_SCHED_LINEAR_VP, 0, 0, 0, 0};
    return s;
}

TfScheduler tf_scheduler_vp(double beta_min, double beta_max) {
    if (!(beta_min >= 0.0 && beta_max > beta_min && isfinite(beta_max)))
        tf_die_usage("use 0 <= beta_min < beta_max, e.g. 0.1 and 20",
                     "VP scheduler beta_min = %g, beta_max = %g are invalid", beta_min, beta_max);
    TfScheduler s = {TF_SCHED_VP, 0, 0, beta_min, beta_max};
    return s;
}

TfSchedValues tf_scheduler_eval(const TfScheduler *s, double t) {
    TfSchedValues v;
    switch (s->kind) {
    case TF_SCHED_CONDOT:
        v.alpha = t;
        v.sigma = 1.0 - (1.0 - s->sigma_min) * t;
        v.d_alpha = 1.0;
        v.d_sigma = -(1.0 - s->sigma_min);
        break;
    case TF_SCHED_POLYNOMIAL: {
        double tn = pow(t, s->n);
        v.alpha = tn;
        v.sigma = 1.0 - tn;
        v.d_alpha = s->n * pow(t, s->n - 1.0);
        v.d_sigma = -v.d_alpha;
        break;
    }
    case TF_SCHED_COSINE: {
        double a = 0.5 * TF_PI * t;
        v.alpha = sin(a);
        v.sigma = cos(a);
        v.d_alpha = 0.5 * TF_PI * cos(a);
        v.d_sigma = -0.5 * TF_PI * sin(a);
        break;
    }
    case TF_SCHED_LINEAR_VP:
        v.alpha = t;
        v.sigma = sqrt(fmax(0.0, (1.0 - t) * (1.0 + t)));
        v.d_alpha = 1.0;
        v.d_sigma = -t / v.sigma; /* -inf at t = 1 */
        break;
    case TF_SCHED_VP: {
        double b = s->beta_min, db = s->beta_max - s->beta_min, u = 1.0 - t;
        double T = 0.5 * u * u * db + u * b;
        double dT = -u * db - b;
        double e = exp(-T);
        v.alpha = exp(-0.5 * T);
        v.sigma = sqrt(-expm1(-T));
        v.d_alpha = -0.5 * dT * v.alpha;
        v.d_sigma = 0.5 * dT * e / v.sigma; /* -inf at t = 1 */
        break;
    }
    default:
        tf_die("unknown scheduler kind %d", (int)s->kind);
    }
    return v;
}

double tf_scheduler_snr_inverse(const TfScheduler *s, double snr) {
    if (!(snr >= 0.0))
        tf_die_usage("the signal-to-noise ratio alpha/sigma is never negative or NaN; check the schedule",
                     "snr_inverse of snr = %g", snr);
    double k = 1.0 / (1.0 + 1.0 / snr); /* rho / (1 + rho), exact at rho = 0 and rho = inf */
    switch (s->kind) {
    case TF_SCHED_CONDOT: return 1.0 / (1.0 / snr + 1.0 - s->sigma_min);
    case TF_SCHED_POLYNOMIAL: return pow(k, 1.0 / s->n);
    case TF_SCHED_COSINE: return 2.0 * atan(snr) / TF_PI;
    case TF_SCHED_LINEAR_VP: return 1.0 / sqrt(1.0 + 1.0 / (snr * snr));
    case TF_SCHED_VP: {
        /* e^-T = rho^2 / (1 + rho^2)  =>  T = log1p(1/rho^2); solve (db/2) u^2 + b u = T for u = 1 - t
         * in the cancellation-free form u = 2T / (b + sqrt(b^2 + 2 db T)). */
        double T = log1p(1.0 / (snr * snr));
        double b = s->beta_min, db = s->beta_max - s->beta_min;
        if (isinf(T)) return -INFINITY;
        return 1.0 - 2.0 * T / (b + sqrt(b * b + 2.0 * db * T));
    }
    default: tf_die("unknown scheduler kind %d", (int)s->kind);
    }
}

/* Parse "<word>[:a[:b]]"; returns the number of numbers read, -1 on junk. */
static int split_params(const char *name, char *word, int wlen, double p[2]) {
    const char *c = strchr(name, ':');
    int len = c ? (int)(c - name) : (int)strlen(name);
    if (len >= wlen) return -1;
    memcpy(word, name, (size_t)len);
    word[len] = '\0';
    int k = 0;
    while (c && k < 2) {
        char *end;
        p[k] = strtod(c + 1, &end);
        if (end == c + 1 || (*end != '\0' && *end != ':')) return -1;
        k++;
        c = *end == ':' ? end : NULL;
    }
    return c ? -1 : k;
}

int tf_scheduler_parse(const char *name, TfScheduler *out) {
    char w[32];
    double p[2] = {0, 0};
    int k = split_params(name, w, (int)sizeof w, p);
    if (k < 0) return -1;
    if ((!strcmp(w, "condot") || !strcmp(w, "linear")) && k == 0) *out = tf_scheduler_condot();
    else if (!strcmp(w, "ot") && k <= 1) {
        if (!(p[0] >= 0.0 && p[0] < 1.0)) return -1;
        *out = tf_scheduler_ot(p[0]);
    } else if (!strcmp(w, "polynomial") && k == 1) {
        if (!(p[0] > 0.0 && isfinite(p[0]))) return -1;
        *out = tf_scheduler_polynomial(p[0]);
    } else if (!strcmp(w, "cosine") && k == 0) *out = tf_scheduler_cosine();
    else if ((!strcmp(w, "linear_vp") || !strcmp(w, "lvp")) && k == 0) *out = tf_scheduler_linear_vp();
    else if (!strcmp(w, "vp") && (k == 0 || k == 2)) {
        if (k == 0) { p[0] = 0.1; p[1] = 20.0; }
        if (!(p[0] >= 0.0 && p[1] > p[0] && isfinite(p[1]))) return -1;
        *out = tf_scheduler_vp(p[0], p[1]);
    } else return -1;
    return 0;
}

const char *tf_scheduler_name(const TfScheduler *s, char *buf, int len) {
    switch (s->kind) {
    case TF_SCHED_CONDOT:
        if (s->sigma_min == 0.0) snprintf(buf, (size_t)len, "condot");
        else snprintf(buf, (size_t)len, "ot:%.17g", s->sigma_min);
        break;
    case TF_SCHED_POLYNOMIAL: snprintf(buf, (size_t)len, "polynomial:%.17g", s->n); break;
    case TF_SCHED_COSINE: snprintf(buf, (size_t)len, "cosine"); break;
    case TF_SCHED_LINEAR_VP: snprintf(buf, (size_t)len, "linear_vp"); break;
    case TF_SCHED_VP: snprintf(buf, (size_t)len, "vp:%.17g:%.17g", s->beta_min, s->beta_max); break;
    default: tf_die("unknown scheduler kind %d", (int)s->kind);
    }
    return buf;
}
