/* dist_check.c - the dist layer under mpiexec (tests/mpi/CMakeLists.txt runs it with 2 ranks):
 *   dist_check collectives NPROC   sums, maxima, min/max, broadcast, allgather and a chunked
 *                                  float allreduce give the exact expected values on every rank;
 *                                  node ranks; the core share of unbound ranks is NPROC / ranks
 *   dist_check die                 rank 1 calls tf_die while rank 0 waits in a barrier: the abort
 *                                  hook (MPI_Abort) must end the whole job with exit code 1
 * Exit 0 on success; a failed check exits 1 (on that rank, which aborts the job). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

static int fails = 0;
#define EXPECT(c)                                                                                    \
    do {                                                                                             \
        if (!(c)) { fprintf(stderr, "[rank %d] %s:%d: check failed: %s\n", tf_rank(), __FILE__, __LINE__, #c); fails++; } \
    } while (0)

int main(int argc, char **argv) {
    const TfDist *d = tf_dist_init(&argc, &argv);
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "die")) {
        if (d->rank == 1) tf_die("deliberate failure on rank 1");
        tf_dist_barrier(); /* never completes: rank 1 is gone */
        return 0;
    }
    int nproc = argc > 2 ? atoi(argv[2]) : 1;
    const int W = d->world, r = d->rank;
    EXPECT(d->mpi == 1 && W >= 2 && d->local_size == W && d->local_rank == r);
    /* unbound ranks share every core of the node */
    EXPECT(d->cpus_allowed == nproc);
    int share = nproc / W > 0 ? nproc / W : 1;
    EXPECT(d->cpu_share == share);
    double s[2] = {r + 1.0, 0.5};
    tf_dist_allreduce_sum_f64(s, 2);
    EXPECT(s[0] == W * (W + 1) / 2.0 && s[1] == 0.5 * W);
    int m[2] = {r, -r};
    tf_dist_allreduce_max_i32(m, 2);
    EXPECT(m[0] == W - 1 && m[1] == 0);
    uint64_t lo, hi;
    tf_dist_allreduce_minmax_u64((uint64_t)(100 + r), &lo, &hi);
    EXPECT(lo == 100 && hi == (uint64_t)(99 + W));
    size_t n = 3000001; /* odd size, several MiB */
    float *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) g[i] = (float)((i % 7) + r);
    tf_dist_allreduce_sum_f32(g, n);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= g[i] == (float)(W * (i % 7) + W * (W - 1) / 2);
    EXPECT(ok);
    char msg[64] = "";
    if (r == 0) snprintf(msg, sizeof msg, "from rank 0");
    tf_dist_bcast(msg, sizeof msg, 0);
    EXPECT(!strcmp(msg, "from rank 0"));
    int mine[2] = {r, 10 * r}, all[16];
    tf_dist_allgather(mine, sizeof mine, all);
    for (int k = 0; k < W; k++) EXPECT(all[2 * k] == k && all[2 * k + 1] == 10 * k);
    free(g);
    tf_dist_barrier();
    if (r == 0) printf("dist_check: %d ranks, %d cpus each, share %d: %s\n", W, d->cpus_allowed, d->cpu_share,
                       fails ? "FAILED" : "ok");
    tf_dist_finalize();
    return fails ? 1 : 0;
}
