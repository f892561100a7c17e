/* nccl.c - the NCCL communicator and the gradient allreduce (see nccl.h): the unique id goes
 * from rank 0 to all over MPI, ncclCommInitRank builds the communicator on the current CUDA
 * device, and each allreduce runs on a dedicated stream fenced by two events (caller's stream
 * -> NCCL stream -> caller's stream). Nothing here synchronises with the host.
 * Must not know about models, tapes, the backend table or files. */
#include "dist/nccl.h"

#include <stdio.h>

#include <nccl.h>

#include "core/check.h"

static ncclComm_t g_comm = NULL;
static cudaStream_t g_stream = NULL;
static cudaEvent_t g_ready = NULL, g_done = NULL;
static int g_rank = -1, g_size = 0, g_device = -1;

static const char *k_hint =
    "set NCCL_DEBUG=INFO for NCCL's own log; on clusters check NCCL_SOCKET_IFNAME / NCCL_IB_HCA (docs/cuda.md)";

static void cuda_fail(const char *file, int line, cudaError_t e, const char *expr) {
    tf_die_at(file, line, TF_EXIT_FAILURE, k_hint, "CUDA error %s (%s) in %s [rank %d of %d, device %d]",
              cudaGetErrorName(e), cudaGetErrorString(e), expr, g_rank, g_size, g_device);
}

#if defined(NCCL_VERSION_CODE) && NCCL_VERSION_CODE >= NCCL_VERSION(2, 14, 0)
#define TF_NCCL_MODERN 1 /* ncclGetLastError (2.13) and ncclCommFinalize (2.14) */
#endif

static void nccl_fail(const char *file, int line, ncclResult_t r, const char *expr) {
#ifdef TF_NCCL_MODERN
    const char *last = ncclGetLastError(g_comm);
#else
    const char *last = "";
#endif
    tf_die_at(file, line, TF_EXIT_FAILURE, k_hint, "NCCL error %d (%s) in %s [rank %d of %d, device %d]%s%s",
              (int)r, ncclGetErrorString(r), expr, g_rank, g_size, g_device, last && *last ? ": " : "",
              last ? last : "");
}

static void mpi_fail(const char *file, int line, int code, const char *expr) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "MPI error %d", code);
    tf_die_at(file, line, TF_EXIT_FAILURE, "a peer rank may have died; see its log", "%s failed: %s [rank %d of %d]",
              expr, msg, g_rank, g_size);
}

#define CUDA_CHECK(call)                                                            \
    do {                                                                            \
        cudaError_t e_ = (call);                                                    \
        if (e_ != cudaSuccess) cuda_fail(__FILE__, __LINE__, e_, #call);            \
    } while (0)
#define NCCL_CHECK(call)                                                            \
    do {                                                                            \
        ncclResult_t r_ = (call);                                                   \
        if (r_ != ncclSuccess) nccl_fail(__FILE__, __LINE__, r_, #call);            \
    } while (0)
#define MPI_CHECK(call)                                                             \
    do {                                                                            \
        int c_ = (call);                                                            \
        if (c_ != MPI_SUCCESS) mpi_fail(__FILE__, __LINE__, c_, #call);             \
    } while (0)

void tf_nccl_init(MPI_Comm comm) {
    if (g_comm) tf_die("tf_nccl_init called twice");
    MPI_CHECK(MPI_Comm_rank(comm, &g_rank));
    MPI_CHECK(MPI_Comm_size(comm, &g_size));
    CUDA_CHECK(cudaGetDevice(&g_device));
    ncclUniqueId id;
    if (g_rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_CHECK(MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, comm));
    NCCL_CHECK(ncclCommInitRank(&g_comm, g_size, id, g_rank));
    /* Non-blocking: the NCCL stream must not serialise with the legacy default stream. */
    CUDA_CHECK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreateWithFlags(&g_ready, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&g_done, cudaEventDisableTiming));
}

int tf_nccl_ready(void) { return g_comm != NULL; }

void tf_nccl_allreduce_sum(float *dev, size_t n, cudaStream_t stream) {
    if (!g_comm) tf_die("tf_nccl_allreduce_sum before tf_nccl_init");
    if (!n) return;
    CUDA_CHECK(cudaEventRecord(g_ready, stream));
    CUDA_CHECK(cudaStreamWaitEvent(g_stream, g_ready, 0));
    NCCL_CHECK(ncclAllReduce(dev, dev, n, ncclFloat32, ncclSum, g_comm, g_stream));
    CUDA_CHECK(cudaEventRecord(g_done, g_stream));
    CUDA_CHECK(cudaStreamWaitEvent(stream, g_done, 0));
}

void tf_nccl_check_async(void) {
    if (!g_comm) return;
    ncclResult_t async = ncclSuccess;
    NCCL_CHECK(ncclCommGetAsyncError(g_comm, &async));
    if (async != ncclSuccess) nccl_fail(__FILE__, __LINE__, async, "an asynchronous NCCL operation");
}

void tf_nccl_finalize(void) {
    if (!g_comm) return;
    CUDA_CHECK(cudaStreamSynchronize(g_stream));
#ifdef TF_NCCL_MODERN
    NCCL_CHECK(ncclCommFinalize(g_comm));
#endif
    NCCL_CHECK(ncclCommDestroy(g_comm));
    CUDA_CHECK(cudaEventDestroy(g_ready));
    CUDA_CHECK(cudaEventDestroy(g_done));
    CUDA_CHECK(cudaStreamDestroy(g_stream));
    g_comm = NULL;
    g_stream = NULL;
    g_ready = g_done = NULL;
}

const char *tf_nccl_version(void) {
    static char buf[64];
    int v = 0;
    if (ncclGetVersion(&v) != ncclSuccess) return "NCCL (version unknown)";
    /* NCCL >= 2.9 encodes major*10000 + minor*100 + patch. */
    snprintf(buf, sizeof buf, "NCCL %d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    return buf;
}
