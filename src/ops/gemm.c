/* gemm.c - binds tf_sgemm() to the provider chosen at build time (see gemm.h).
 * Why oneDNN by default: Debian's OpenBLAS 0.3.21 picks slow kernels on current
 * CPUs it does not recognise (30-100 GFLOP/s per core), while oneDNN JIT-compiles
 * for the ISA it detects (about 190 GFLOP/s per core measured on AVX-512 here). */
#include "ops/gemm.h"

#include <stdio.h>

#include "core/check.h"

#if defined(TF_GEMM_DNNL)
#include <oneapi/dnnl/dnnl.h>

void tf_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                                  lda, B, ldb, beta, C, ldc);
    if (st != dnnl_success) tf_die("dnnl_sgemm(M=%d N=%d K=%d) failed with status %d", M, N, K, (int)st);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
    }
}

const char *tf_gemm_provider(void) {
    static char buf[128];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d sgemm (JIT, isa %s)", v->major, v->minor, v->patch,
             isa_name(dnnl_get_effective_cpu_isa()));
    return buf;
}

#elif defined(TF_GEMM_CBLAS)
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

void tf_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const char *tf_gemm_provider(void) {
#if defined(__APPLE__)
    return "Apple Accelerate cblas_sgemm";
#else
    static char buf[160];
    snprintf(buf, sizeof buf, "CBLAS sgemm (%s)", openblas_get_config());
    return buf;
#endif
}
#else
#error "define TF_GEMM_DNNL or TF_GEMM_CBLAS (CMake option TINYFLOW_GEMM)"
#endif
