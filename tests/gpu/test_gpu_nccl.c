/* test_gpu_nccl.c - NCCL allreduce on the visible GPUs through src/dist/nccl.c: every rank
 * (one per GPU, device = local rank) sums 2^24 + 3 floats whose total is exact in fp32, and
 * the result must be exact. The ordering contract is checked too: the buffer is uploaded on
 * the backend's stream right before the allreduce (which must wait for it), and a kernel
 * enqueued on that stream right after (scale by 2) must see the reduced values.
 * Run directly (one rank, MPI singleton) or under mpiexec -n N; exit 77 (every rank) when
 * there are fewer visible GPUs than ranks on a node, or none. */
#include <mpi.h>

#include "core/check.h"
#include "dist/nccl.h"
#include "gpu_test.h"
#include "optim/optim_cuda.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1, lrank = 0, lsize = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &lrank);
    MPI_Comm_size(node, &lsize);
    tf_set_rank(rank);
    int ndev = tf_cuda_device_count(), skip = ndev < lsize, any = 0;
    MPI_Allreduce(&skip, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any) {
        if (rank == 0) printf("test_gpu_nccl: SKIPPED: %d rank(s) per node but %d GPU(s) visible\n", lsize, ndev);
        MPI_Comm_free(&node);
        MPI_Finalize();
        return TF_TEST_SKIP;
    }
    g_be = tf_backend_cuda(lrank);
    tf_nccl_init(MPI_COMM_WORLD);
    if (rank == 0) printf("test_gpu_nccl: %d rank(s), %s, device %d on rank 0\n", size, tf_nccl_version(), tf_backend_cuda_device());
    const size_t n = ((size_t)1 << 24) + 3;
    float *h = hnew(n);
    for (size_t i = 0; i < n; i++) h[i] = (float)(i % 1000) + (float)rank;
    float *d = dnew(n);
    cudaStream_t st = tf_backend_cuda_stream();
    g_be->upload(d, h, n * sizeof(float));
    tf_nccl_allreduce_sum(d, n, st);
    tf_scale_cuda(n, d, 2.0f, st);
    g_be->download(h, d, n * sizeof(float));
    size_t bad = 0;
    const float ranks_sum = (float)size * (float)(size - 1) / 2.0f;
    for (size_t i = 0; i < n; i++)
        if (h[i] != 2.0f * ((float)size * (float)(i % 1000) + ranks_sum)) bad++;
    CHECK_MSG(bad == 0, "rank %d: %zu of %zu reduced values wrong", rank, bad, n);
    /* a second, small allreduce reusing the events */
    float one = 1.0f, got = 0.0f;
    g_be->upload(d, &one, sizeof one);
    tf_nccl_allreduce_sum(d, 1, st);
    g_be->download(&got, d, sizeof got);
    CHECK_MSG(got == (float)size, "rank %d: allreduce of ones gave %g, not %d", rank, got, size);
    tf_nccl_check_async();
    int fails = tf_test_fail, total = 0;
    MPI_Allreduce(&fails, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("  allreduce of %zu floats over %d rank(s): %s\n", n, size, total ? "WRONG" : "exact");
    free(h);
    dfree(d);
    tf_nccl_finalize();
    MPI_Comm_free(&node);
    MPI_Finalize();
    if (rank == 0) tf_test_finish("test_gpu_nccl");
    return total ? 1 : 0;
}
