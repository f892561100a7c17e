/* test_flow_ot.c - exact minibatch OT: the assignment is a permutation and its cost is the minimum
 * (brute force over all permutations for n <= 7, several seeds; no improving pair swap for n = 96),
 * ties and degenerate inputs, and the coupled batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "flow/coupling.h"
#include "tf_test.h"

static int is_perm(const int *p, int n) {
    int seen[128] = {0};
    for (int i = 0; i < n; i++) {
        if (p[i] < 0 || p[i] >= n || seen[p[i]]) return 0;
        seen[p[i]] = 1;
    }
    return 1;
}

/* Minimum over all permutations (Heap's algorithm). */
static double brute_min(int n, const double *c) {
    int p[8], k[8] = {0};
    for (int i = 0; i < n; i++) p[i] = i;
    double best = 0;
    for (int i = 0; i < n; i++) best += c[i * n + p[i]];
    int i = 1;
    while (i < n) {
        if (k[i] < i) {
            int j = i % 2 ? k[i] : 0, t = p[j];
            p[j] = p[i];
            p[i] = t;
            double s = 0;
            for (int r = 0; r < n; r++) s += c[r * n + p[r]];
            if (s < best) best = s;
            k[i]++;
            i = 1;
        } else {
            k[i] = 0;
            i++;
        }
    }
    return best;
}

static void test_brute_force(void) {
    int cases = 0;
    double worst = 0;
    for (int n = 1; n <= 7; n++) {
        for (int seed = 0; seed < 6; seed++) {
            double c[49];
            int perm[7];
            TfRng r = tf_rng((uint64_t)seed, TF_STREAM_USER, (uint64_t)n, 0);
            for (int i = 0; i < n * n; i++) {
                c[i] = seed % 3 == 2 ? (double)tf_rng_below(&r, (uint64_t)i, 4) /* many ties */
                                     : 10.0 * tf_rng_uniform(&r, (uint64_t)i) - (seed % 3 == 1 ? 5.0 : 0.0);
            }
            double got = tf_ot_assign(n, c, perm, NULL), want = brute_min(n, c);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += c[i * n + perm[i]];
            CHECK(is_perm(perm, n));
            CHECK_CLOSE(got, sum, 1e-12, 1e-12);
            CHECK_MSG(fabs(got - want) <= 1e-9 * (1 + fabs(want)), "n %d seed %d: assignment cost %.12g, brute force %.12g",
                      n, seed, got, want);
            worst = fmax(worst, fabs(got - want));
            cases++;
        }
    }
    /* Squared-L2 costs of point clouds via tf_ot_couple (D = 3), against brute force. */
    for (int n = 2; n <= 7; n++) {
        for (int seed = 0; seed < 5; seed++) {
            float x0[21], x1[21];
            double c[49];
            int perm[7];
            TfRng r = tf_rng((uint64_t)seed + 100, TF_STREAM_USER, (uint64_t)n, 1);
            tf_rng_fill_normal(&r, 0, x0, (size_t)n * 3);
            tf_rng_fill_normal(&r, 64, x1, (size_t)n * 3);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int k = 0; k < 3; k++) s += ((double)x1[i * 3 + k] - x0[j * 3 + k]) * ((double)x1[i * 3 + k] - x0[j * 3 + k]);
                    c[i * n + j] = s;
                }
            double got = tf_ot_couple(n, 3, x0, x1, perm, NULL), want = brute_min(n, c);
            CHECK(is_perm(perm, n));
            CHECK_MSG(fabs(got - want) <= 1e-9 * (1 + want), "couple n %d seed %d: %.12g vs %.12g", n, seed, got, want);
            worst = fmax(worst, fabs(got - want));
            cases++;
        }
    }
    printf("OT vs brute force: %d problems (n = 1..7, random/negative/tied costs, point clouds), worst |cost diff| %.1e\n",
           cases, worst);
}

static void test_large(void) {
    enum { n = 96, D = 4 };
    float x0[n * D], x1[n * D], y0[n * D];
    int perm[n];
    TfRng r = tf_rng(77, TF_STREAM_USER, 0, 0);
    tf_rng_fill_normal(&r, 0, x0, n * D);
    tf_rng_fill_normal(&r, 100000, x1, n * D);
    for (int i = 0; i < n * D; i++) x1[i] = 0.5f * x1[i] + (i % D == 0 ? 2.0f : 0.0f);
    void *work = malloc(tf_ot_workspace_bytes(n));
    double cost = tf_ot_couple(n, D, x0, x1, perm, work);
    CHECK(is_perm(perm, n));
    double cid = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < D; k++) cid += ((double)x1[i * D + k] - x0[i * D + k]) * ((double)x1[i * D + k] - x0[i * D + k]);
    tf_permute_rows(n, D, perm, x0, y0);
    double cp = 0;
    for (int i = 0; i < n * D; i++) cp += ((double)x1[i] - y0[i]) * ((double)x1[i] - y0[i]);
    CHECK_CLOSE(cp, cost, 1e-9, 1e-9);
    /* 2-opt certificate: no exchange of two partners lowers the cost. */
    int improving = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double a = 0, b = 0;
            for (int k = 0; k < D; k++) {
                double d1 = (double)x1[i * D + k] - x0[perm[i] * D + k], d2 = (double)x1[j * D + k] - x0[perm[j] * D + k];
                double e1 = (double)x1[i * D + k] - x0[perm[j] * D + k], e2 = (double)x1[j * D + k] - x0[perm[i] * D + k];
                a += d1 * d1 + d2 * d2;
                b += e1 * e1 + e2 * e2;
            }
            improving += b < a - 1e-9;
        }
    CHECK(improving == 0);
    /* Random permutations never beat it. */
    int beaten = 0;
    for (int trial = 0; trial < 200; trial++) {
        int p[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)tf_rng_below(&r, (uint64_t)(trial * n + i) + 999999, (uint32_t)(i + 1)), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < D; k++) s += ((double)x1[i * D + k] - x0[p[i] * D + k]) * ((double)x1[i * D + k] - x0[p[i] * D + k]);
        beaten += s < cost - 1e-9;
    }
    CHECK(beaten == 0);
    printf("OT n = %d: cost %.2f vs independent pairing %.2f (%.0f%% lower), no improving swap, 200 random perms never lower\n",
           n, cost, cid, 100.0 * (1 - cost / cid));
    CHECK(cost < cid);
    /* Identical clouds: the identity is optimal with cost 0. */
    double z = tf_ot_couple(n, D, x0, x0, perm, work);
    CHECK(z == 0.0);
    for (int i = 0; i < n; i++) CHECK(perm[i] == i);
    free(work);
    CHECK(tf_ot_assign(0, NULL, NULL, NULL) == 0.0);
}

int main(void) {
    test_brute_force();
    test_large();
    return tf_test_finish("test_flow_ot");
}
