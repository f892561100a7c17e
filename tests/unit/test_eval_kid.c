/* test_eval_kid.c - KID (eval/kid.c):
 *   - the unbiased MMD^2 of a tiny set equals a direct double computation of the formula;
 *   - KID of a set against itself matches its exact expectation 2 (K_off - K_diag) / N (a tiny
 *     negative number: subsets of X and Y may share rows) within 4 standard errors; of two
 *     independent samples of one distribution it is 0 within 4 standard errors; of a shifted
 *     distribution it is over 50x those bounds;
 *   - subsets are a pure function of (seed, index): computing [0, 10) and [10, 20) separately
 *     gives the values of [0, 20) bitwise (what sharding over ranks relies on). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "eval/kid.h"
#include "tf_test.h"

#define D 16

static void gaussian_rows(float *x, int n, uint64_t seed, float shift) {
    TfRng r = tf_rng(seed, TF_STREAM_USER, 0, 0);
    for (int i = 0; i < n * D; i++) x[i] = tf_rng_normal(&r, (uint64_t)i) * (1.0f + (i % D) * 0.05f) + shift;
}

static double k3(const float *a, const float *b) {
    double dot = 0;
    for (int k = 0; k < D; k++) dot += (double)a[k] * b[k];
    double v = dot / D + 1;
    return v * v * v;
}

int main(void) {
    /* direct formula */
    float x[5 * D], y[5 * D];
    gaussian_rows(x, 5, 1, 0.0f);
    gaussian_rows(y, 5, 2, 0.3f);
    double xx = 0, yy = 0, xy = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            if (i != j) xx += k3(x + i * D, x + j * D), yy += k3(y + i * D, y + j * D);
            xy += k3(x + i * D, y + j * D);
        }
    double ref = (xx + yy) / 20.0 - 2 * xy / 25.0, got = tf_mmd2_unbiased(x, y, 5, D);
    printf("MMD^2 of 5 rows: %.9f, direct formula %.9f\n", got, ref);
    CHECK_CLOSE(got, ref, 1e-6, 1e-5);

    const int n = 3000, S = 40, m = 500;
    float *a = malloc(sizeof(float) * n * D), *b = malloc(sizeof(float) * n * D), *c = malloc(sizeof(float) * n * D);
    gaussian_rows(a, n, 10, 0.0f);
    gaussian_rows(b, n, 11, 0.0f);
    gaussian_rows(c, n, 12, 0.5f);
    double v[40], mean, std;
    /* Identical sets: X and Y subsets are drawn independently from the same N rows, so row i
     * can be in both and k(x_i, x_i) enters the cross term with probability 1/N:
     * E[KID] = 2 (K_off - K_diag) / N exactly (K_off: mean of k over distinct rows, K_diag:
     * mean of k(x, x)). A tiny negative number; the estimator must hit it. */
    double koff = 0, kdiag = 0;
    for (int i = 0; i < n; i++) {
        kdiag += k3(a + i * D, a + i * D) / n;
        for (int j = 0; j < n; j++) if (j != i) koff += k3(a + i * D, a + j * D) / ((double)n * (n - 1));
    }
    const double pred = 2 * (koff - kdiag) / n;
    tf_kid_subsets(a, n, a, n, D, m, 7, 0, S, v);
    tf_kid_summary(v, S, &mean, &std);
    double se = std / sqrt(S);
    printf("KID(A, A)        = %+.2e +- %.1e (std %.1e); expected 2 (K_off - K_diag) / N = %+.2e\n", mean, se, std, pred);
    CHECK(fabs(mean - pred) < 4 * se);
    tf_kid_subsets(a, n, b, n, D, m, 7, 0, S, v);
    double same;
    tf_kid_summary(v, S, &same, &std);
    se = std / sqrt(S);
    printf("KID(A, B same)   = %+.2e +- %.1e (two independent samples of one distribution: 0 expected)\n", same, se);
    CHECK(fabs(same) < 4 * se);
    double shifted;
    tf_kid_subsets(a, n, c, n, D, m, 7, 0, S, v);
    tf_kid_summary(v, S, &shifted, &std);
    printf("KID(A, shifted)  = %+.2e +- %.1e\n", shifted, std / sqrt(S));
    CHECK(shifted > 50 * (fabs(same) + 4 * se) && shifted > 50 * fabs(pred));

    /* sharded subset ranges reproduce the whole range bitwise */
    double whole[20], part[20];
    tf_kid_subsets(a, n, c, n, D, 100, 9, 0, 20, whole);
    tf_kid_subsets(a, n, c, n, D, 100, 9, 0, 10, part);
    tf_kid_subsets(a, n, c, n, D, 100, 9, 10, 10, part + 10);
    int same_bits = 1;
    for (int k = 0; k < 20; k++) same_bits &= whole[k] == part[k];
    CHECK(same_bits);
    CHECK(tf_kid_subset_size(1000, 700, 5000) == 700);
    free(a); free(b); free(c);
    return tf_test_finish("test_eval_kid");
}
