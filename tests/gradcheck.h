/* gradcheck.h - central finite differences against analytic gradients.
 * The scalar is L = sum_i r_i y_i (r fixed random), accumulated in double.
 * For each checked tensor, up to `probes` elements are perturbed by +-eps and
 * (L+ - L-)/(2 eps) is compared with the analytic gradient:
 *   |num - ana| <= atol + rtol * max(|ana|, |num|). */
#ifndef TF_GRADCHECK_H
#define TF_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tf_test.h"

typedef void (*GcForward)(void *ctx);

typedef struct {
    const char *name;
    float *x;        /* the tensor perturbed */
    const float *g;  /* its analytic gradient dL/dx */
    size_t n;
} GcTensor;

static double gc_loss(GcForward fwd, void *ctx, const float *y, const float *r, size_t ny) {
    fwd(ctx);
    double s = 0.0;
    for (size_t i = 0; i < ny; i++) s += (double)r[i] * y[i];
    return s;
}

/* Returns the number of mismatching probes (also counted by tf_test). */
static int gc_check(const char *what, GcForward fwd, void *ctx, const float *y, const float *r,
                    size_t ny, const GcTensor *t, float eps, double atol, double rtol, int probes) {
    int bad = 0;
    double worst = 0.0;
    unsigned st = 12345u;
    for (int p = 0; p < probes && p < (int)t->n; p++) {
        size_t i;
        if ((int)t->n <= probes) i = (size_t)p;
        else { st = st * 1103515245u + 12345u; i = (size_t)((st >> 4) % t->n); }
        float keep = t->x[i];
        t->x[i] = keep + eps;
        double lp = gc_loss(fwd, ctx, y, r, ny);
        t->x[i] = keep - eps;
        double lm = gc_loss(fwd, ctx, y, r, ny);
        t->x[i] = keep;
        double num = (lp - lm) / (2.0 * eps), ana = t->g[i];
        double tol = atol + rtol * fmax(fabs(ana), fabs(num));
        double err = fabs(num - ana);
        if (err / tol > worst) worst = err / tol;
        if (err > tol) {
            if (bad < 5)
                fprintf(stderr, "  %s: d/d%s[%zu]: numeric %.6g analytic %.6g\n", what, t->name, i, num, ana);
            bad++;
        }
    }
    fwd(ctx); /* leave the outputs consistent with the unperturbed inputs */
    CHECK_MSG(bad == 0, "%s: %d of %d probes of d/d%s disagree", what, bad, probes, t->name);
    printf("  %-28s d/d%-8s worst err/tol %.3f\n", what, t->name, worst);
    return bad;
}

static void gc_fill(float *x, size_t n, unsigned seed, float scale) {
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = scale * ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f);
    }
}

#endif
