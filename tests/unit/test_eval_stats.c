/* test_eval_stats.c - float64 feature statistics (eval/stats.c):
 *   - batched Chan accumulation equals a two-pass long-double reference (mean and unbiased
 *     covariance, rel. 1e-12) on data offset by 1000 (where raw sums x x^T would cancel);
 *   - merging shards of unequal size (one empty, one of a single row) equals one pass;
 *   - the plain-sum form of 3 shards, summed element-wise (what MPI_Allreduce(SUM) does) around
 *     the global mean, gives the same state (rel. 1e-12);
 *   - the cache file round-trips bitwise (tag, features) and a flipped byte or a cut file is
 *     refused with the file named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "eval/stats.h"
#include "tf_test.h"

#define N 1500
#define D 12

static float g_x[N * D];

static void make_data(void) {
    TfRng r = tf_rng(3, TF_STREAM_USER, 0, 0);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < D; k++) /* correlated columns around 1000 */
            g_x[i * D + k] = 1000.0f + tf_rng_normal(&r, (uint64_t)(i * D + k)) * (1.0f + k) +
                             0.5f * tf_rng_normal(&r, (uint64_t)(i * D));
}

static double rel_err(const TfStats *s, const long double *mean, const long double *cov) {
    double *c = malloc(sizeof(double) * D * D), worst = 0;
    tf_stats_covariance(s, c);
    for (int k = 0; k < D; k++) worst = fmax(worst, fabs((double)((s->mean[k] - mean[k]) / mean[k])));
    for (int k = 0; k < D * D; k++) worst = fmax(worst, fabs((double)((c[k] - cov[k]) / (fabsl(cov[k]) + 1e-3L))));
    free(c);
    return worst;
}

int main(void) {
    make_data();
    long double mean[D] = {0}, cov[D * D] = {0};
    for (int i = 0; i < N; i++) for (int k = 0; k < D; k++) mean[k] += g_x[i * D + k];
    for (int k = 0; k < D; k++) mean[k] /= N;
    for (int i = 0; i < N; i++)
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++) cov[a * D + b] += (g_x[i * D + a] - mean[a]) * (g_x[i * D + b] - mean[b]);
    for (int k = 0; k < D * D; k++) cov[k] /= N - 1;

    /* one pass in uneven batches */
    TfStats all;
    tf_stats_init(&all, D);
    for (int i0 = 0, b = 1; i0 < N; i0 += b, b = b * 3 % 701 + 1) tf_stats_add(&all, g_x + i0 * D, i0 + b > N ? N - i0 : b);
    double e = rel_err(&all, mean, cov);
    printf("batched accumulation vs two-pass reference: max rel error %.2e (n = %.0f)\n", e, all.n);
    CHECK(all.n == N && e < 1e-12);

    /* shards: [0,1), [1,1) empty, [1,700), [700,N) merged pairwise */
    TfStats sh[4];
    int cut[5] = {0, 1, 1, 700, N};
    for (int k = 0; k < 4; k++) {
        tf_stats_init(&sh[k], D);
        tf_stats_add(&sh[k], g_x + cut[k] * D, cut[k + 1] - cut[k]);
    }
    TfStats merged;
    tf_stats_init(&merged, D);
    for (int k = 3; k >= 0; k--) tf_stats_merge(&merged, &sh[k]);
    e = rel_err(&merged, mean, cov);
    printf("merge of 4 shards (sizes 1, 0, 699, 800): max rel error %.2e\n", e);
    CHECK(merged.n == N && e < 1e-12);

    /* plain sums around the global mean, summed like MPI_Allreduce(SUM) */
    size_t L = tf_stats_sums_len(D);
    double *sum = calloc(L, sizeof(double)), *buf = malloc(sizeof(double) * L), c[D] = {0}, tot = 0;
    for (int k = 0; k < 4; k++) {
        for (int j = 0; j < D; j++) c[j] += sh[k].n * sh[k].mean[j];
        tot += sh[k].n;
    }
    for (int j = 0; j < D; j++) c[j] /= tot;
    for (int k = 0; k < 4; k++) {
        tf_stats_to_sums(&sh[k], c, buf);
        for (size_t j = 0; j < L; j++) sum[j] += buf[j];
    }
    TfStats red;
    tf_stats_init(&red, D);
    tf_stats_from_sums(&red, c, sum);
    e = rel_err(&red, mean, cov);
    printf("plain sums around the global mean, reduced: max rel error %.2e\n", e);
    CHECK(red.n == N && e < 1e-12);

    /* cache file */
    char path[256], tag[256], err[1024];
    snprintf(path, sizeof path, "/tmp/tf_test_stats_%ld.tfstats", (long)getpid());
    CHECK(tf_stats_save(path, &all, "dataset=x n=1500", g_x, 7, err, sizeof err) == 0);
    TfStats back;
    float *feat = NULL;
    int nf = 0;
    CHECK_MSG(tf_stats_load(path, &back, tag, sizeof tag, &feat, &nf, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(tag, "dataset=x n=1500") && nf == 7 && back.n == all.n && back.d == D);
    CHECK(!memcmp(back.mean, all.mean, sizeof(double) * D) && !memcmp(back.m2, all.m2, sizeof(double) * D * D));
    CHECK(feat && !memcmp(feat, g_x, sizeof(float) * 7 * D));
    tf_stats_free(&back);
    free(feat);
    FILE *f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(ch ^ 0x10, f);
    fclose(f);
    CHECK(tf_stats_load(path, &back, tag, sizeof tag, &feat, &nf, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "checksum") && strstr(err, path), "%s", err);
    CHECK(truncate(path, 60) == 0);
    CHECK(tf_stats_load(path, &back, tag, sizeof tag, &feat, &nf, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "truncated"), "%s", err);
    unlink(path);

    for (int k = 0; k < 4; k++) tf_stats_free(&sh[k]);
    tf_stats_free(&all); tf_stats_free(&merged); tf_stats_free(&red);
    free(sum); free(buf);
    return tf_test_finish("test_eval_stats");
}
