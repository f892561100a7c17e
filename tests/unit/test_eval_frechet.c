/* test_eval_frechet.c - the Fréchet distance of eval/frechet.c against closed forms and an
 * independent matrix square root:
 *   - identical statistics give 0 (|FD| < 1e-9 tr S);
 *   - diagonal and commuting covariances: FD = |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2;
 *   - a non-commuting 2x2 pair: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2));
 *   - random 24-d covariances: tr sqrtm(S1 S2) from a Denman-Beavers iteration on the
 *     NON-symmetric product (double, with its own Gauss-Jordan inverse) agrees to 1e-9;
 *   - tf_sqrtm_psd squares back to S; a singular S (N < d) gives a finite FD without the
 *     `suspicious` flag; a matrix with eigenvalue -1 sets it; NaN input is an error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/frechet.h"
#include "tf_test.h"

static double gauss(uint64_t k) {
    TfRng r = tf_rng(42, TF_STREAM_USER, 0, k / 1000000);
    return tf_rng_normal(&r, k % 1000000);
}

/* S = X^T X / (n - 1) of n random rows (plus a random diagonal load), d x d. */
static void random_cov(int d, int n, uint64_t seed, double load, double *s) {
    double *x = malloc(sizeof(double) * (size_t)n * d);
    for (int i = 0; i < n * d; i++) x[i] = gauss(seed * 100000 + (uint64_t)i) * (1.0 + (i % d) * 0.1);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double acc = 0;
            for (int r = 0; r < n; r++) acc += x[r * d + i] * x[r * d + j];
            s[i * d + j] = acc / (n - 1) + (i == j ? load : 0);
        }
    free(x);
}

static void matmul(int d, const double *a, const double *b, double *c) {
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double acc = 0;
            for (int k = 0; k < d; k++) acc += a[i * d + k] * b[k * d + j];
            c[i * d + j] = acc;
        }
}

static void inverse(int d, const double *a, double *inv) {
    double *m = malloc(sizeof(double) * d * d);
    memcpy(m, a, sizeof(double) * d * d);
    for (int i = 0; i < d * d; i++) inv[i] = (i / d == i % d);
    for (int c = 0; c < d; c++) {
        int p = c;
        for (int r = c + 1; r < d; r++) if (fabs(m[r * d + c]) > fabs(m[p * d + c])) p = r;
        for (int k = 0; k < d; k++) {
            double t = m[c * d + k]; m[c * d + k] = m[p * d + k]; m[p * d + k] = t;
            t = inv[c * d + k]; inv[c * d + k] = inv[p * d + k]; inv[p * d + k] = t;
        }
        double piv = m[c * d + c];
        for (int k = 0; k < d; k++) m[c * d + k] /= piv, inv[c * d + k] /= piv;
        for (int r = 0; r < d; r++) {
            if (r == c) continue;
            double f = m[r * d + c];
            for (int k = 0; k < d; k++) m[r * d + k] -= f * m[c * d + k], inv[r * d + k] -= f * inv[c * d + k];
        }
    }
    free(m);
}

/* Denman-Beavers: Y -> sqrt(A), Z -> sqrt(A)^-1, for A without eigenvalues on (-inf, 0]. */
static double trace_sqrtm_db(int d, const double *a) {
    size_t b = sizeof(double) * d * d;
    double *y = malloc(b), *z = malloc(b), *yi = malloc(b), *zi = malloc(b);
    memcpy(y, a, b);
    for (int i = 0; i < d * d; i++) z[i] = (i / d == i % d);
    for (int it = 0; it < 100; it++) {
        inverse(d, y, yi);
        inverse(d, z, zi);
        double change = 0;
        for (int i = 0; i < d * d; i++) {
            double ny = 0.5 * (y[i] + zi[i]);
            change += fabs(ny - y[i]);
            y[i] = ny;
            z[i] = 0.5 * (z[i] + yi[i]);
        }
        if (change < 1e-15 * d * d) break;
    }
    double tr = 0;
    for (int i = 0; i < d; i++) tr += y[i * d + i];
    free(y); free(z); free(yi); free(zi);
    return tr;
}

static double fd(int d, const double *m1, const double *s1, const double *m2, const double *s2, TfFrechetInfo *fi) {
    char err[512];
    double v = NAN;
    int rc = tf_frechet_distance(d, m1, s1, m2, s2, &v, fi, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    return v;
}

static void test_identical(void) {
    const int d = 64;
    double *s = malloc(sizeof(double) * d * d), *mu = calloc(d, sizeof(double));
    random_cov(d, 200, 1, 0.0, s);
    for (int i = 0; i < d; i++) mu[i] = gauss(7000 + i);
    double tr = 0;
    for (int i = 0; i < d; i++) tr += s[i * d + i];
    double v = fd(d, mu, s, mu, s, NULL);
    printf("identical statistics (d=64): FD = %.3e (trace %.1f)\n", v, tr);
    CHECK(fabs(v) < 1e-9 * tr);
    free(s); free(mu);
}

static void test_commuting(void) {
    const int d = 8;
    double a[8], b[8], m1[8], m2[8], s1[64] = {0}, s2[64] = {0}, expect = 0;
    for (int i = 0; i < d; i++) {
        a[i] = 0.5 + i, b[i] = 3.0 / (1 + i), m1[i] = i * 0.1, m2[i] = -i * 0.2;
        s1[i * d + i] = a[i], s2[i * d + i] = b[i];
        expect += (m1[i] - m2[i]) * (m1[i] - m2[i]) + (sqrt(a[i]) - sqrt(b[i])) * (sqrt(a[i]) - sqrt(b[i]));
    }
    CHECK_CLOSE(fd(d, m1, s1, m2, s2, NULL), expect, 1e-12, 1e-12);
    /* the same spectra in a random orthogonal basis (Gram-Schmidt of random vectors) commute */
    double q[64], r1[64], r2[64], t[64];
    for (int i = 0; i < 64; i++) q[i] = gauss(500 + i);
    for (int c = 0; c < d; c++) {
        for (int p = 0; p < c; p++) {
            double dot = 0;
            for (int k = 0; k < d; k++) dot += q[k * d + c] * q[k * d + p];
            for (int k = 0; k < d; k++) q[k * d + c] -= dot * q[k * d + p];
        }
        double nrm = 0;
        for (int k = 0; k < d; k++) nrm += q[k * d + c] * q[k * d + c];
        for (int k = 0; k < d; k++) q[k * d + c] /= sqrt(nrm);
    }
    double qt[64];
    for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) qt[i * d + j] = q[j * d + i];
    matmul(d, q, s1, t), matmul(d, t, qt, r1);
    matmul(d, q, s2, t), matmul(d, t, qt, r2);
    double v = fd(d, m1, r1, m2, r2, NULL);
    printf("commuting covariances: FD = %.12f, closed form %.12f\n", v, expect);
    CHECK_CLOSE(v, expect, 1e-10, 1e-10);
}

static void test_noncommuting_2x2(void) {
    const double s1[4] = {2, 1, 1, 2}, s2[4] = {1, 0, 0, 3}, mu1[2] = {0, 1}, mu2[2] = {1, 1};
    /* S1 S2 = [[2, 3], [1, 6]]: trace 8, det S1 det S2 = 9 -> tr sqrt = sqrt(8 + 2*3) = sqrt(14) */
    const double expect = 1.0 + 4.0 + 4.0 - 2.0 * sqrt(14.0);
    TfFrechetInfo fi;
    double v = fd(2, mu1, s1, mu2, s2, &fi);
    printf("non-commuting 2x2: FD = %.15f, closed form 9 - 2 sqrt(14) = %.15f\n", v, expect);
    CHECK_CLOSE(v, expect, 1e-13, 1e-13);
    CHECK_CLOSE(fi.trace_sqrt, sqrt(14.0), 1e-13, 1e-13);
    CHECK_CLOSE(fi.mean_term, 1.0, 0, 1e-15);
}

static void test_random_vs_denman_beavers(void) {
    const int d = 24;
    double *s1 = malloc(sizeof(double) * d * d), *s2 = malloc(sizeof(double) * d * d), *p = malloc(sizeof(double) * d * d);
    random_cov(d, 60, 2, 0.01, s1);
    random_cov(d, 90, 3, 0.01, s2);
    double mu1[24], mu2[24], diff = 0, tr1 = 0, tr2 = 0;
    for (int i = 0; i < d; i++) {
        mu1[i] = gauss(900 + i), mu2[i] = gauss(950 + i);
        diff += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        tr1 += s1[i * d + i], tr2 += s2[i * d + i];
    }
    matmul(d, s1, s2, p);
    double ref = diff + tr1 + tr2 - 2 * trace_sqrtm_db(d, p);
    TfFrechetInfo fi;
    double v = fd(d, mu1, s1, mu2, s2, &fi);
    printf("random 24-d: FD = %.12f, Denman-Beavers reference %.12f (rel %.1e)\n", v, ref, fabs(v - ref) / ref);
    CHECK_CLOSE(v, ref, 1e-10, 1e-9);
    CHECK(!fi.suspicious);
    /* symmetric in its arguments */
    CHECK_CLOSE(fd(d, mu2, s2, mu1, s1, NULL), v, 1e-10, 1e-10);
    free(s1); free(s2); free(p);
}

static void test_sqrtm_and_singular(void) {
    const int d = 16;
    double s[256], a[256], a2[256], mu[16] = {0};
    char err[512];
    random_cov(d, 40, 4, 0.0, s);
    int clipped = -1;
    double min_rel = 1;
    CHECK(tf_sqrtm_psd(d, s, a, &clipped, &min_rel, err, sizeof err) == 0);
    matmul(d, a, a, a2);
    double worst = 0;
    for (int i = 0; i < d * d; i++) worst = fmax(worst, fabs(a2[i] - s[i]));
    CHECK_MSG(worst < 1e-12, "sqrtm squared differs by %g", worst);
    /* N < d: singular covariances (rank 4 of 16) */
    double s1[256], s2[256];
    random_cov(d, 5, 5, 0.0, s1);
    random_cov(d, 5, 6, 0.0, s2);
    TfFrechetInfo fi;
    double v = fd(d, mu, s1, mu, s2, &fi);
    printf("singular 16-d (rank 4): FD = %.6f, clipped %d/%d, min rel eigen %.1e / %.1e\n", v, fi.clipped1,
           fi.clipped, fi.min_rel1, fi.min_rel);
    CHECK(isfinite(v) && v > 0 && !fi.suspicious);
    /* not a covariance: eigenvalue -1 */
    double bad[4] = {1, 0, 0, -1}, ok[4] = {1, 0, 0, 1};
    fd(2, mu, bad, mu, ok, &fi);
    CHECK(fi.suspicious && fi.clipped1 == 1);
    /* NaN is refused with a message */
    bad[1] = NAN;
    double out;
    CHECK(tf_frechet_distance(2, mu, bad, mu, ok, &out, NULL, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "non-finite") != NULL, "%s", err);
}

int main(void) {
    test_identical();
    test_commuting();
    test_noncommuting_2x2();
    test_random_vs_denman_beavers();
    test_sqrtm_and_singular();
    return tf_test_finish("test_eval_frechet");
}
