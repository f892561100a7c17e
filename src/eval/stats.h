/* stats.h - mean and covariance of feature vectors in float64, accumulated stably.
 *
 * Each batch is reduced to its own mean and CENTRED scatter matrix
 *   M2 = sum_i (x_i - mean)(x_i - mean)^T
 * and merged into the running state with Chan et al.'s parallel update
 *   n = na + nb,  delta = mean_b - mean_a,  mean = mean_a + delta nb / n,
 *   M2 = M2a + M2b + delta delta^T na nb / n,
 * so no raw second moment sum x x^T (and no cancellation) ever appears. tf_stats_merge is
 * the same update between two shards.
 * Across processes the shards are reduced as PLAIN SUMS (what MPI_Allreduce(MPI_SUM) can add)
 * taken around a common shift c, normally the global mean (one small allreduce first):
 *   buf = [ n,  sum (x - c) (d),  sum (x - c)(x - c)^T (d*d) ]
 *       = [ n,  n (mean - c),     M2 + n (mean - c)(mean - c)^T ],
 * and after the sum over shards mean = c + s / N, M2 = S - s s^T / N. With c close to the
 * global mean the correction term is tiny, so this is as stable as the pairwise merge.
 * The covariance is the unbiased one (divides by N - 1), as numpy.cov and pytorch-fid use.
 * Cache files (.tfstats) hold one state plus an optional block of float32 feature rows (the
 * reference features KID needs), a tag naming what they describe, and a CRC-32 (zlib).
 * This file must not know about models, datasets, MPI or FID.
 */
#ifndef TF_EVAL_STATS_H
#define TF_EVAL_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int d;
    double n;     /* rows seen (exact up to 2^53) */
    double *mean; /* [d] */
    double *m2;   /* [d*d] centred scatter, symmetric, both triangles filled */
} TfStats;

void tf_stats_init(TfStats *s, int d); /* zero rows; d in 1..TF_STATS_MAX_DIM */
void tf_stats_free(TfStats *s);
void tf_stats_reset(TfStats *s);
#define TF_STATS_MAX_DIM 8192

/* Add rows x[n][d] (float; non-finite values end the program naming the row). */
void tf_stats_add(TfStats *s, const float *x, int n);
/* into <- into + b (Chan's pairwise merge). Same d. */
void tf_stats_merge(TfStats *into, const TfStats *b);
/* Unbiased covariance cov[d*d] = M2 / (n - 1); dies unless n >= 2. */
void tf_stats_covariance(const TfStats *s, double *cov);

/* Plain-sum form around the shift c[d] (see above): buf has tf_stats_sums_len(d) doubles.
 * from_sums REPLACES s by the state the summed buffer describes. */
size_t tf_stats_sums_len(int d);
void tf_stats_to_sums(const TfStats *s, const double *c, double *buf);
void tf_stats_from_sums(TfStats *s, const double *c, const double *buf);

/* Cache file. `tag` (<= 255 bytes) says what the statistics describe; feat[n_feat][d] are
 * optional float32 rows stored with them (n_feat may be 0). Written to path.tmp.PID, fsynced
 * and renamed. load allocates *feat (NULL when none) and fills tag (cap tagcap). Both return
 * 0, or -1 with "PATH: what is wrong" in err. */
int tf_stats_save(const char *path, const TfStats *s, const char *tag, const float *feat, int n_feat,
                  char *err, size_t cap);
int tf_stats_load(const char *path, TfStats *s, char *tag, size_t tagcap, float **feat, int *n_feat,
                  char *err, size_t cap);

#endif
