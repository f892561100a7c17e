/* frechet.c - Fréchet distance through symmetric eigendecompositions (LAPACKE dsyevd);
 * see frechet.h for the route and the clipping rule. Must not know about models or files. */
#include "eval/frechet.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#define SUSPICIOUS_REL (-1e-8)

/* Symmetrised copy (s + s^T) / 2; -1 when an entry is not finite. */
static int sym_copy(int d, const double *s, double *out) {
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double a = s[(size_t)i * d + j], b = s[(size_t)j * d + i];
            if (!isfinite(a)) return -1;
            out[(size_t)i * d + j] = 0.5 * (a + b);
        }
    return 0;
}

static int syevd(char jobz, int d, double *a, double *w, const char *what, char *err, size_t cap) {
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, jobz, 'U', d, a, d, w);
    if (info != 0) {
        snprintf(err, cap, "LAPACKE_dsyevd on %s (%dx%d) failed: info %d (%s)", what, d, d, (int)info,
                 info < 0 ? "illegal argument" : "did not converge");
        return -1;
    }
    return 0;
}

/* Clip w[0..d) at 0; count and most negative / largest. */
static void clip(int d, double *w, int *count, double *min_rel) {
    double wmax = 0, wmin = 0;
    int c = 0;
    for (int i = 0; i < d; i++) {
        if (w[i] > wmax) wmax = w[i];
        if (w[i] < wmin) wmin = w[i];
        if (w[i] < 0) { w[i] = 0; c++; }
    }
    if (count) *count = c;
    if (min_rel) *min_rel = wmin < 0 ? (wmax > 0 ? wmin / wmax : -INFINITY) : 0.0;
}

int tf_eigvalsh(int d, const double *s, double *w, char *err, size_t cap) {
    double *a = tf_malloc(sizeof(double) * (size_t)d * d);
    int rc = sym_copy(d, s, a);
    if (rc) snprintf(err, cap, "eigenvalues: the matrix has non-finite entries");
    else rc = syevd('N', d, a, w, "a symmetric matrix", err, cap);
    free(a);
    return rc;
}

int tf_sqrtm_psd(int d, const double *s, double *a, int *clipped, double *min_rel, char *err, size_t cap) {
    double *v = tf_malloc(sizeof(double) * (size_t)d * d), *w = tf_malloc(sizeof(double) * (size_t)d);
    int rc = sym_copy(d, s, v);
    if (rc) snprintf(err, cap, "matrix square root: the matrix has non-finite entries");
    else rc = syevd('V', d, v, w, "the covariance", err, cap);
    if (!rc) {
        clip(d, w, clipped, min_rel);
        /* a = (V diag(sqrt w)) V^T; row-major V[i][k] holds eigenvector k in column k. */
        double *b = tf_malloc(sizeof(double) * (size_t)d * d);
        for (int i = 0; i < d; i++)
            for (int k = 0; k < d; k++) b[(size_t)i * d + k] = v[(size_t)i * d + k] * sqrt(w[k]);
#pragma omp parallel for schedule(dynamic, 4)
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) {
                const double *bi = b + (size_t)i * d, *vj = v + (size_t)j * d;
                double acc = 0;
                for (int k = 0; k < d; k++) acc += bi[k] * vj[k];
                a[(size_t)i * d + j] = acc;
                a[(size_t)j * d + i] = acc;
            }
        free(b);
    }
    free(v);
    free(w);
    return rc;
}

/* c = x y^T for row-major x, y [d*d] (each entry a dot product of two rows). */
static void mul_abt(int d, const double *x, const double *y, double *c) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            const double *xi = x + (size_t)i * d, *yj = y + (size_t)j * d;
            double acc = 0;
            for (int k = 0; k < d; k++) acc += xi[k] * yj[k];
            c[(size_t)i * d + j] = acc;
        }
}

int tf_frechet_distance(int d, const double *mu1, const double *s1, const double *mu2, const double *s2,
                        double *out, TfFrechetInfo *info, char *err, size_t cap) {
    TfFrechetInfo fi;
    memset(&fi, 0, sizeof fi);
    if (d < 1) { snprintf(err, cap, "Frechet distance: dimension %d", d); return -1; }
    for (int i = 0; i < d; i++)
        if (!isfinite(mu1[i]) || !isfinite(mu2[i])) {
            snprintf(err, cap, "Frechet distance: mean %d is not finite", i);
            return -1;
        }
    const size_t dd = (size_t)d * d;
    double *a = tf_malloc(sizeof(double) * dd), *s2s = tf_malloc(sizeof(double) * dd),
           *t = tf_malloc(sizeof(double) * dd), *m = tf_malloc(sizeof(double) * dd),
           *w = tf_malloc(sizeof(double) * (size_t)d);
    int rc = tf_sqrtm_psd(d, s1, a, &fi.clipped1, &fi.min_rel1, err, cap);
    if (!rc && sym_copy(d, s2, s2s)) {
        snprintf(err, cap, "Frechet distance: the second covariance has non-finite entries");
        rc = -1;
    }
    if (!rc) {
        mul_abt(d, a, s2s, t); /* t = A S2 (S2 symmetric: rows of S2 are its columns) */
        mul_abt(d, t, a, m);   /* m = t A (A symmetric) */
        for (int i = 0; i < d; i++) /* symmetrise; dsyevd reads the upper triangle */
            for (int j = i + 1; j < d; j++) {
                double v = 0.5 * (m[(size_t)i * d + j] + m[(size_t)j * d + i]);
                m[(size_t)i * d + j] = m[(size_t)j * d + i] = v;
            }
        rc = syevd('N', d, m, w, "A S2 A", err, cap);
    }
    if (!rc) {
        clip(d, w, &fi.clipped, &fi.min_rel);
        double tr_sqrt = 0, tr1 = 0, tr2 = 0, diff = 0;
        for (int i = 0; i < d; i++) tr_sqrt += sqrt(w[i]); /* ascending: smallest first */
        for (int i = 0; i < d; i++) {
            tr1 += s1[(size_t)i * d + i];
            tr2 += s2[(size_t)i * d + i];
            diff += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        }
        fi.trace_sqrt = tr_sqrt;
        fi.mean_term = diff;
        fi.suspicious = fi.min_rel1 < SUSPICIOUS_REL || fi.min_rel < SUSPICIOUS_REL;
        *out = diff + tr1 + tr2 - 2.0 * tr_sqrt;
    }
    if (info) *info = fi;
    free(a); free(s2s); free(t); free(m); free(w);
    return rc;
}
