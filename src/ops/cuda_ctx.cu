/* cuda_ctx.cu - the device context every CUDA op uses: the selected device, one stream, one
 * cuBLAS handle bound to it with a workspace we own (so cuBLAS never allocates inside a step
 * and its results are reproducible), the TF32 switch, the device error word, the row-major
 * GEMM wrappers and the checked-call error path (tf_die_at with file:line; tf_die_at adds
 * the rank).
 * Must not know about models, tapes, the backend table or MPI. */
#include <stdlib.h>
#include <string.h>

#include "ops/cuda_common.cuh"

static int g_device = -1;
static cudaStream_t g_stream = NULL;
static cublasHandle_t g_blas = NULL;
static void *g_workspace = NULL;
static int *g_err = NULL; /* device int[4] */
static int g_tf32 = 0;
static int g_sync_check = 0;

static const char *cuda_hint(cudaError_t e) {
    switch (e) {
    case cudaErrorNoDevice:
        return "no GPU is visible: check nvidia-smi, CUDA_VISIBLE_DEVICES and the container's GPU access";
    case cudaErrorInsufficientDriver:
        return "the NVIDIA driver is older than this CUDA runtime: update the driver or build with an older toolkit";
    case cudaErrorMemoryAllocation:
        return "the GPU is out of memory: lower the batch size (trainer.micro_batch) or TF_CUDA_IM2COL_MB";
    case cudaErrorInvalidDevice:
        return "the device index is not below the visible device count (CUDA_VISIBLE_DEVICES)";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
        return "this build has no code for this GPU: rebuild with CMAKE_CUDA_ARCHITECTURES including its sm_XX";
    default:
        return "run with TF_CUDA_SYNC=1 to check every kernel synchronously and name the one that failed";
    }
}

extern "C" void tf_cuda_fail(const char *file, int line, int err, const char *expr) {
    cudaError_t e = (cudaError_t)err;
    tf_die_at(file, line, TF_EXIT_FAILURE, cuda_hint(e), "CUDA error %s (%s) [device %d] in %s",
              cudaGetErrorName(e), cudaGetErrorString(e), g_device, expr);
}

extern "C" void tf_cublas_fail(const char *file, int line, int status, const char *expr) {
    cublasStatus_t s = (cublasStatus_t)status;
    tf_die_at(file, line, TF_EXIT_FAILURE,
              s == CUBLAS_STATUS_ALLOC_FAILED ? "the GPU is out of memory: lower the batch size"
                                              : "a cuBLAS call failed: rerun with TF_CUDA_SYNC=1 to localise it",
              "cuBLAS error %s (%s) [device %d] in %s", cublasGetStatusName(s), cublasGetStatusString(s),
              g_device, expr);
}

extern "C" void tf_cuda_check_launch(const char *file, int line, const char *kernel) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess && g_sync_check) e = cudaStreamSynchronize(g_stream);
    if (e != cudaSuccess) {
        char what[160];
        snprintf(what, sizeof what, "the launch of %s%s", kernel, g_sync_check ? " (TF_CUDA_SYNC=1)" : "");
        tf_cuda_fail(file, line, (int)e, what);
    }
}

static long env_long(const char *name, long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

extern "C" void tf_cuda_ctx_init(int device) {
    if (g_device >= 0) {
        if (device != g_device)
            tf_die("CUDA context already on device %d; one process drives one device (asked for %d)", g_device, device);
        return;
    }
    g_device = device; /* for the error messages from here on */
    TF_CUDA_CHECK(cudaSetDevice(device));
    /* A blocking stream: it orders against the legacy default stream, so a stray cudaMemcpy
     * elsewhere in the process can never race with our kernels. */
    TF_CUDA_CHECK(cudaStreamCreate(&g_stream));
    TF_CUBLAS_CHECK(cublasCreate(&g_blas));
    TF_CUBLAS_CHECK(cublasSetStream(g_blas, g_stream));
    long mb = env_long("TF_CUBLAS_WORKSPACE_MB", 32);
    if (mb < 1) mb = 1;
    TF_CUDA_CHECK(cudaMalloc(&g_workspace, (size_t)mb << 20));
    TF_CUBLAS_CHECK(cublasSetWorkspace(g_blas, g_workspace, (size_t)mb << 20));
    TF_CUBLAS_CHECK(cublasSetAtomicsMode(g_blas, CUBLAS_ATOMICS_NOT_ALLOWED));
    TF_CUBLAS_CHECK(cublasSetPointerMode(g_blas, CUBLAS_POINTER_MODE_HOST));
    TF_CUDA_CHECK(cudaMalloc((void **)&g_err, 4 * sizeof(int)));
    TF_CUDA_CHECK(cudaMemsetAsync(g_err, 0, 4 * sizeof(int), g_stream));
    g_sync_check = env_long("TF_CUDA_SYNC", 0) != 0;
    tf_cuda_set_tf32(env_long("TF_CUDA_TF32", 0) != 0);
    TF_CUDA_CHECK(cudaStreamSynchronize(g_stream));
}

extern "C" void tf_cuda_ctx_shutdown(void) {
    if (g_device < 0) return;
    TF_CUDA_CHECK(cudaStreamSynchronize(g_stream));
    TF_CUBLAS_CHECK(cublasDestroy(g_blas));
    TF_CUDA_CHECK(cudaFree(g_workspace));
    TF_CUDA_CHECK(cudaFree(g_err));
    TF_CUDA_CHECK(cudaStreamDestroy(g_stream));
    g_blas = NULL;
    g_workspace = NULL;
    g_err = NULL;
    g_stream = NULL;
    g_device = -1;
}

static void need_ctx(const char *what) {
    if (g_device < 0) tf_die("%s: the CUDA backend is not initialised (call tf_backend_cuda first)", what);
}

extern "C" int tf_cuda_ctx_device(void) { return g_device; }
extern "C" cudaStream_t tf_cuda_stream(void) { return g_stream; }
extern "C" cublasHandle_t tf_cuda_blas(void) {
    need_ctx("cuBLAS");
    return g_blas;
}
extern "C" int *tf_cuda_error_word(void) {
    need_ctx("error word");
    return g_err;
}

extern "C" void tf_cuda_set_tf32(int on) {
    need_ctx("tf_cuda_set_tf32");
    TF_CUBLAS_CHECK(cublasSetMathMode(g_blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    g_tf32 = on != 0;
}
extern "C" int tf_cuda_tf32(void) { return g_tf32; }

extern "C" void tf_cuda_check_errors(void) {
    if (g_device < 0) return;
    int h[4] = {0, 0, 0, 0};
    TF_CUDA_CHECK(cudaMemcpyAsync(h, g_err, sizeof h, cudaMemcpyDeviceToHost, g_stream));
    TF_CUDA_CHECK(cudaStreamSynchronize(g_stream));
    switch (h[0]) {
    case TF_CUDA_ERR_NONE: return;
    case TF_CUDA_ERR_EMBED_LABEL:
        tf_die_usage("labels must lie in [0, num_classes] (num_classes = the null class)",
                     "label embedding (GPU): label %d of sample %d is outside [0, %d)", h[1], h[2], h[3]);
    case TF_CUDA_ERR_XENT_LABEL:
        tf_die_usage("labels must lie in [0, classes)",
                     "cross-entropy (GPU): label %d of sample %d outside [0, %d)", h[1], h[2], h[3]);
    default: tf_die("GPU kernel reported unknown error code %d", h[0]);
    }
}

static cublasOperation_t op(int t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

/* Row-major C[M,N] is column-major C^T[N,M] = op(B)^T op(A)^T: swap the operands. */
extern "C" void tf_cuda_sgemm_at(const char *file, int line, int trans_a, int trans_b, int M, int N, int K,
                                 float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                                 float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    need_ctx("sgemm");
    cublasStatus_t s = cublasSgemm(g_blas, op(trans_b), op(trans_a), N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc);
    if (s != CUBLAS_STATUS_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "cublasSgemm(row-major M=%d N=%d K=%d ta=%d tb=%d)", M, N, K, trans_a, trans_b);
        tf_cublas_fail(file, line, (int)s, what);
    }
}

extern "C" void tf_cuda_sgemm_strided_at(const char *file, int line, int trans_a, int trans_b, int M, int N,
                                         int K, float alpha, const float *A, int lda, long long sa,
                                         const float *B, int ldb, long long sb, float beta, float *C, int ldc,
                                         long long sc, int count) {
    if (M <= 0 || N <= 0 || count <= 0) return;
    need_ctx("sgemm");
    cublasStatus_t s = cublasSgemmStridedBatched(g_blas, op(trans_b), op(trans_a), N, M, K, &alpha, B, ldb, sb,
                                                 A, lda, sa, &beta, C, ldc, sc, count);
    if (s != CUBLAS_STATUS_SUCCESS) {
        char what[192];
        snprintf(what, sizeof what, "cublasSgemmStridedBatched(row-major M=%d N=%d K=%d ta=%d tb=%d count=%d)", M, N,
                 K, trans_a, trans_b, count);
        tf_cublas_fail(file, line, (int)s, what);
    }
}
