/* coupling.h - how noise x0 is paired with data x1 in a training batch.
 *
 * Independent coupling: pair row i with row i (nothing to do).
 * Minibatch optimal transport (OT-CFM, Tong et al. 2023; Pooladian et al. 2023): pair the rows by
 * the EXACT minimum of sum_i ||x1_i - x0_perm[i]||^2 over permutations, solved as a linear
 * assignment problem (shortest augmenting paths with potentials, Hungarian / Jonker-Volgenant
 * family, O(B^3) time, O(B^2) memory). With equal uniform marginals the exact OT plan is a
 * permutation, so it is returned as one: unlike torchcfm we do NOT resample pairs from the plan
 * with replacement, so no sample is repeated or dropped. Labels stay with x1 (OT ignores them).
 *
 * Per rank or global? The caller decides, by what it passes in:
 *  - per rank (pass the local B rows): no communication, cost O(B_local^3) per rank; the plan is
 *    optimal only within each rank's slice, so the pairing (and thus training) depends on the
 *    number of ranks -- a 2-rank run no longer reproduces a 1-rank run. This is what torchcfm's DDP
 *    example does (tcfm#19).
 *  - global (allgather x1 and x0 of all ranks, solve once -- every rank can solve the same problem
 *    redundantly, the result is deterministic -- then keep the local rows): rank-count invariant
 *    and a better plan (straighter paths), but one allgather of 2 B_global D floats per step and
 *    O(B_global^3) compute on every rank; practical up to B_global of a few thousand.
 * Must not know about ranks or MPI: the gather, if any, is the caller's.
 */
#ifndef TF_FLOW_COUPLING_H
#define TF_FLOW_COUPLING_H

#include <stddef.h>

typedef enum { TF_COUPLING_INDEPENDENT = 0, TF_COUPLING_OT } TfCoupling;

/* Bytes of scratch for tf_ot_assign / tf_ot_couple with n rows (includes the n x n cost matrix). */
size_t tf_ot_workspace_bytes(int n);

/* Linear assignment: minimise sum_i cost[i * n + perm[i]] over permutations perm of 0..n-1.
 * cost is n x n row-major, finite. Returns the minimal total cost. work: tf_ot_workspace_bytes(n)
 * bytes, or NULL to allocate and free inside (not inside a training step). */
double tf_ot_assign(int n, const double *cost, int *perm, void *work);

/* OT coupling of a batch: cost[i][j] = ||x1_i - x0_j||^2 (in double), then tf_ot_assign.
 * Afterwards data row i is to be paired with noise row perm[i] (see tf_permute_rows).
 * Returns the minimal total squared distance. */
double tf_ot_couple(int n, int dim, const float *x0, const float *x1, int *perm, void *work);

/* out[i] = in[perm[i]] for n rows of dim floats; out must not alias in. */
void tf_permute_rows(int n, int dim, const int *perm, const float *in, float *out);

#endif
