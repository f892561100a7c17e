/* kid.h - Kernel Inception Distance (Bińkowski et al. 2018) on any feature vectors.
 * Kernel k(x, y) = (x.y / d + 1)^3. Per subset s, m rows of X and m rows of Y are drawn
 * without replacement (keyed partial Fisher-Yates: seed, stream TF_STREAM_EVAL_KID, step s,
 * sample 0 for X / 1 for Y), and the unbiased MMD^2 is
 *   [sum_{i!=j} k(x_i,x_j) + sum_{i!=j} k(y_i,y_j)] / (m(m-1)) - 2 sum_{i,j} k(x_i,y_j) / m^2.
 * KID is the mean over subsets; the reported std is the population std of the subset values
 * (as torch-fidelity). Gram matrices are float32 GEMMs (ops/gemm.h); kernels and sums are double.
 * Subset s depends only on (seed, s), so shards can compute disjoint subset ranges and add
 * the values (sharded KID: each rank draws from its own rows).
 * Must not know about models, files or MPI.
 */
#ifndef TF_EVAL_KID_H
#define TF_EVAL_KID_H

#include <stdint.h>

#include "core/rng.h"

/* Streams of the evaluation code (after TF_STREAM_USER, see core/rng.h). */
#define TF_STREAM_EVAL_AUGMENT (TF_STREAM_USER + 1) /* classifier training shifts / crops */
#define TF_STREAM_EVAL_KID (TF_STREAM_USER + 2)     /* KID subset draws */

/* The subset size actually used: min(m, nx, ny). */
int tf_kid_subset_size(int m, int nx, int ny);

/* values[k] = unbiased MMD^2 of subset first + k, k < count, with m rows per subset (m >= 2,
 * m <= nx, ny; dies otherwise). x[nx][d], y[ny][d]. */
void tf_kid_subsets(const float *x, int nx, const float *y, int ny, int d, int m, uint64_t seed, int first,
                    int count, double *values);

/* Unbiased MMD^2 of x[m][d] against y[m][d] (all rows, no subsampling). */
double tf_mmd2_unbiased(const float *x, const float *y, int m, int d);

/* Mean and population std of values[0..n). */
void tf_kid_summary(const double *values, int n, double *mean, double *std);

#endif
