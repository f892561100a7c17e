/* bench_allreduce.c - the communication half of a data-parallel step, measured alone: time of
 * MPI_Allreduce (in place, float sum -- what the trainer does with its gradient arena) for a given
 * number of floats, averaged over iterations, on every rank of an mpirun job. Prints one JSON line
 * (rank 0): ranks, bytes, seconds per call, and the algorithmic bandwidth 2 (p-1)/p * bytes / t of
 * a ring. A run with --floats 1 gives the latency term. docs/scaling.md feeds these two numbers
 * into its projection. Knows nothing about models or training.
 *
 *   mpirun -np 2 bench/bench_allreduce --floats 1100000 --iters 50
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int rc, const char *what) {
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "bench_allreduce: %s failed (MPI error %d)\n", what, rc);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

int main(int argc, char **argv) {
    check(MPI_Init(&argc, &argv), "MPI_Init");
    long n = 1100000;
    int iters = 50, warmup = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--floats")) n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_allreduce [--floats N] [--iters K] [--warmup W]\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    if (n < 1 || n > (1L << 30) || iters < 1 || warmup < 0) {
        fprintf(stderr, "bench_allreduce: need 1 <= floats <= 2^30 and iters >= 1\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int rank = 0, world = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    float *buf = malloc((size_t)n * sizeof(float));
    if (!buf) {
        fprintf(stderr, "bench_allreduce: out of memory for %ld floats\n", n);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (long i = 0; i < n; i++) buf[i] = (float)(i % 7) * 1e-3f;
    double best = 1e30, total = 0;
    for (int it = 0; it < warmup + iters; it++) {
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        double t0 = MPI_Wtime();
        check(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
        double dt = MPI_Wtime() - t0, worst = 0;
        check(MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce (time)");
        if (it >= warmup) {
            total += worst;
            if (worst < best) best = worst;
        }
    }
    if (rank == 0) {
        double mean = total / iters, bytes = (double)n * sizeof(float);
        double algbw = world > 1 ? 2.0 * (world - 1) / world * bytes / mean / 1e9 : 0.0;
        printf("{\"bench\":\"allreduce\",\"ranks\":%d,\"floats\":%ld,\"bytes\":%.0f,\"mean_s\":%.6e,\"best_s\":%.6e,"
               "\"ring_algbw_GBps\":%.3f}\n", world, n, bytes, mean, best, algbw);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
