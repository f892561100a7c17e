/* coupling.c - exact minibatch OT by linear assignment (see coupling.h).
 * Shortest augmenting paths with row/column potentials: rows are added one at a time, each
 * by a Dijkstra-like search over reduced costs; O(n^3) total. Knows nothing about ranks. */
#include "flow/coupling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

typedef struct {
    double *cost, *u, *v, *minv;
    int *p, *way;
    unsigned char *used;
} OtWork;

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

size_t tf_ot_workspace_bytes(int n) {
    if (n < 0) tf_die_usage("pass a batch size >= 0", "OT workspace for n = %d", n);
    size_t m = (size_t)n + 1;
    size_t b = tf_mul_size(tf_mul_size((size_t)n, (size_t)n, "OT cost matrix"), sizeof(double), "OT cost matrix");
    b += 3 * m * sizeof(double);
    b += align8(2 * m * sizeof(int));
    b += align8(m);
    return b;
}

static OtWork carve(int n, void *work) {
    size_t m = (size_t)n + 1;
    char *c = work;
    OtWork w;
    w.cost = (double *)c; c += (size_t)n * (size_t)n * sizeof(double);
    w.u = (double *)c; c += m * sizeof(double);
    w.v = (double *)c; c += m * sizeof(double);
    w.minv = (double *)c; c += m * sizeof(double);
    w.p = (int *)c;
    w.way = w.p + m; c += align8(2 * m * sizeof(int));
    w.used = (unsigned char *)c;
    return w;
}

/* Solve with cost a (n x n); fills perm (row -> column). */
static void assign(int n, const double *a, int *perm, OtWork *w) {
    double *u = w->u, *v = w->v, *minv = w->minv;
    int *p = w->p, *way = w->way;
    unsigned char *used = w->used;
    for (int j = 0; j <= n; j++) { u[j] = v[j] = 0.0; p[j] = 0; way[j] = 0; }
    for (int i = 1; i <= n; i++) {
        p[0] = i; /* column 0 is a virtual column holding the row being inserted */
        int j0 = 0;
        for (int j = 0; j <= n; j++) { minv[j] = INFINITY; used[j] = 0; }
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            const double *row = a + (size_t)(i0 - 1) * n;
            for (int j = 1; j <= n; j++) {
                if (used[j]) continue;
                double cur = row[j - 1] - u[i0] - v[j];
                if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                if (minv[j] < delta) { delta = minv[j]; j1 = j; }
            }
            TF_ASSERT(j1 > 0);
            for (int j = 0; j <= n; j++) {
                if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* flip the augmenting path */
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    for (int j = 1; j <= n; j++) perm[p[j] - 1] = j - 1;
}

static void check_cost(int n, const double *cost) {
    for (size_t k = 0; k < (size_t)n * (size_t)n; k++)
        if (!isfinite(cost[k]))
            tf_die_usage("OT needs finite costs; check the batch for inf/NaN values",
                         "OT cost[%zu][%zu] = %g", k / (size_t)n, k % (size_t)n, cost[k]);
}

double tf_ot_assign(int n, const double *cost, int *perm, void *work) {
    if (n < 0) tf_die_usage("pass a batch size >= 0", "tf_ot_assign: n = %d", n);
    if (n == 0) return 0.0;
    check_cost(n, cost);
    void *own = work ? NULL : tf_malloc(tf_ot_workspace_bytes(n));
    OtWork w = carve(n, work ? work : own);
    assign(n, cost, perm, &w);
    double total = 0.0;
    for (int i = 0; i < n; i++) total += cost[(size_t)i * n + perm[i]];
    free(own);
    return total;
}

double tf_ot_couple(int n, int dim, const float *x0, const float *x1, int *perm, void *work) {
    if (n < 0 || dim <= 0) tf_die_usage("pass n >= 0 samples of dim >= 1 numbers", "tf_ot_couple: n = %d, dim = %d", n, dim);
    if (n == 0) return 0.0;
    void *own = work ? NULL : tf_malloc(tf_ot_workspace_bytes(n));
    OtWork w = carve(n, work ? work : own);
    for (int i = 0; i < n; i++) {
        const float *a = x1 + (size_t)i * dim;
        for (int j = 0; j < n; j++) {
            const float *b = x0 + (size_t)j * dim;
            double s = 0.0;
            for (int k = 0; k < dim; k++) { double d = (double)a[k] - (double)b[k]; s += d * d; }
            w.cost[(size_t)i * n + j] = s;
        }
    }
    check_cost(n, w.cost);
    assign(n, w.cost, perm, &w);
    double total = 0.0;
    for (int i = 0; i < n; i++) total += w.cost[(size_t)i * n + perm[i]];
    free(own);
    return total;
}

void tf_permute_rows(int n, int dim, const int *perm, const float *in, float *out) {
    if (in == out) tf_die_usage("use a separate output buffer", "tf_permute_rows: out aliases in");
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n) tf_die_usage("pass a permutation of 0..n-1", "perm[%d] = %d with n = %d", i, perm[i], n);
        memcpy(out + (size_t)i * dim, in + (size_t)perm[i] * dim, (size_t)dim * sizeof(float));
    }
}
