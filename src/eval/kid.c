/* kid.c - unbiased polynomial-kernel MMD^2 over keyed subsets (see kid.h).
 * Must not know about models, files or MPI. */
#include "eval/kid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/gemm.h"

int tf_kid_subset_size(int m, int nx, int ny) {
    int k = m;
    if (nx < k) k = nx;
    if (ny < k) k = ny;
    return k;
}

/* Sums of k over a Gram matrix g[m][m] / (x.y / d + 1)^3: all entries, and the diagonal. */
static void kernel_sums(const float *g, int m, int d, double *all, double *diag) {
    double a = 0, dg = 0;
#pragma omp parallel for schedule(static) reduction(+ : a)
    for (int i = 0; i < m; i++) {
        double row = 0;
        for (int j = 0; j < m; j++) {
            double k = (double)g[(size_t)i * m + j] / d + 1.0;
            row += k * k * k;
        }
        a += row;
    }
    for (int i = 0; i < m; i++) {
        double k = (double)g[(size_t)i * m + i] / d + 1.0;
        dg += k * k * k;
    }
    *all = a;
    *diag = dg;
}

static double mmd2_work(const float *x, const float *y, int m, int d, float *g) {
    double xx, xd, yy, yd, xy, unused;
    tf_sgemm(0, 1, m, m, d, 1.0f, x, d, x, d, 0.0f, g, m);
    kernel_sums(g, m, d, &xx, &xd);
    tf_sgemm(0, 1, m, m, d, 1.0f, y, d, y, d, 0.0f, g, m);
    kernel_sums(g, m, d, &yy, &yd);
    tf_sgemm(0, 1, m, m, d, 1.0f, x, d, y, d, 0.0f, g, m);
    kernel_sums(g, m, d, &xy, &unused);
    const double mm = (double)m;
    return ((xx - xd) + (yy - yd)) / (mm * (mm - 1)) - 2.0 * xy / (mm * mm);
}

double tf_mmd2_unbiased(const float *x, const float *y, int m, int d) {
    if (m < 2 || d < 1) tf_die("KID: needs at least 2 rows per set (got %d) and d >= 1 (got %d)", m, d);
    float *g = tf_malloc(sizeof(float) * (size_t)m * m);
    double v = mmd2_work(x, y, m, d, g);
    free(g);
    return v;
}

/* Rows of src[n][d] chosen by a keyed partial Fisher-Yates into dst[m][d]. */
static void draw_rows(const float *src, int n, int d, int m, uint64_t seed, uint64_t step, uint64_t which,
                      int *idx, float *dst) {
    for (int i = 0; i < n; i++) idx[i] = i;
    TfRng r = tf_rng(seed, TF_STREAM_EVAL_KID, step, which);
    for (int i = 0; i < m; i++) {
        int j = i + (int)tf_rng_below(&r, (uint64_t)i, (uint32_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        memcpy(dst + (size_t)i * d, src + (size_t)idx[i] * d, sizeof(float) * (size_t)d);
    }
}

void tf_kid_subsets(const float *x, int nx, const float *y, int ny, int d, int m, uint64_t seed, int first,
                    int count, double *values) {
    if (m < 2 || m > nx || m > ny)
        tf_die_hint("use more samples or a smaller eval.kid_subset_size",
                    "KID: subset size %d needs 2 <= m <= both set sizes (%d generated, %d reference)", m, nx, ny);
    if (nx >= (1 << 24) || ny >= (1 << 24)) tf_die("KID: sets above 2^24 rows are not supported");
    int *idx = tf_malloc(sizeof(int) * (size_t)(nx > ny ? nx : ny));
    float *xs = tf_malloc(sizeof(float) * (size_t)m * d), *ys = tf_malloc(sizeof(float) * (size_t)m * d),
          *g = tf_malloc(sizeof(float) * (size_t)m * m);
    for (int k = 0; k < count; k++) {
        uint64_t s = (uint64_t)(first + k);
        draw_rows(x, nx, d, m, seed, s, 0, idx, xs);
        draw_rows(y, ny, d, m, seed, s, 1, idx, ys);
        values[k] = mmd2_work(xs, ys, m, d, g);
    }
    free(idx); free(xs); free(ys); free(g);
}

void tf_kid_summary(const double *values, int n, double *mean, double *std) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += values[i];
    double mu = n > 0 ? s / n : NAN;
    for (int i = 0; i < n; i++) q += (values[i] - mu) * (values[i] - mu);
    *mean = mu;
    *std = n > 0 ? sqrt(q / n) : NAN;
}
