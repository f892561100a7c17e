/* frechet.h - the Fréchet distance between two Gaussians N(mu1, S1), N(mu2, S2):
 *     FD = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2),
 * computed without complex arithmetic through the symmetric route: S1 S2 is similar to
 * M = A S2 A with A = S1^(1/2) (symmetric PSD), so tr sqrt(S1 S2) = sum_i sqrt(lambda_i(M)).
 *   1. eigh(S1) = V diag(w) V^T (LAPACK dsyevd), w clipped at 0, A = V diag(sqrt w) V^T;
 *   2. M = A S2 A, symmetrised;  3. lambda = eigvalsh(M) (dsyevd), clipped at 0;  4. sum sqrt.
 * CLIPPING: a covariance is PSD, but rounding (and N < d, which makes it singular) leaves
 * eigenvalues of order -1e-16 * lambda_max; they are set to 0. Clipped counts and the most
 * negative eigenvalue relative to the largest are reported; a relative value below -1e-8
 * means the input was not a covariance (not just rounding) and `suspicious` is set.
 * No eps regulariser is added (pytorch-fid adds eps I only when scipy's sqrtm fails).
 * The result is not clamped: identical inputs give 0 up to ~1e-12 tr S of rounding.
 * Must not know about models, features or files.
 */
#ifndef TF_EVAL_FRECHET_H
#define TF_EVAL_FRECHET_H

#include <stddef.h>

typedef struct {
    double trace_sqrt;     /* tr sqrt(S1 S2) */
    double mean_term;      /* |mu1 - mu2|^2 */
    int clipped1, clipped; /* eigenvalues clipped at 0: of S1, of M */
    double min_rel1, min_rel; /* most negative eigenvalue / largest (0 when none negative) */
    int suspicious;        /* a clipped eigenvalue was far beyond rounding */
} TfFrechetInfo;

/* FD of (mu1, s1) and (mu2, s2), each s [d*d] row-major symmetric. Returns 0 and *out, or -1
 * with the reason in err (non-finite input, LAPACK failure). info may be NULL. */
int tf_frechet_distance(int d, const double *mu1, const double *s1, const double *mu2, const double *s2,
                        double *out, TfFrechetInfo *info, char *err, size_t cap);

/* a = s^(1/2) for symmetric PSD s [d*d] (negative eigenvalues clipped; count in *clipped,
 * most negative / largest in *min_rel; both may be NULL). 0 or -1 with err. */
int tf_sqrtm_psd(int d, const double *s, double *a, int *clipped, double *min_rel, char *err, size_t cap);

/* Eigenvalues (ascending) of symmetric s [d*d] into w[d]. 0 or -1 with err. */
int tf_eigvalsh(int d, const double *s, double *w, char *err, size_t cap);

#endif
