/* gemm.h - the single-precision GEMM every CPU op uses, behind one function.
 *
 * Row-major C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T.
 * The provider (oneDNN's JIT sgemm by default, or any CBLAS such as OpenBLAS or
 * Apple Accelerate) is chosen at build time with TINYFLOW_GEMM; nothing outside
 * gemm.c knows which one it is. Called inside an OpenMP parallel region the
 * providers run single-threaded, which is how the ops use it.
 */
#ifndef TF_OPS_GEMM_H
#define TF_OPS_GEMM_H

void tf_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Human-readable provider, version and ISA, e.g. "oneDNN 2.6.3 sgemm (isa avx512_core)". */
const char *tf_gemm_provider(void);

#endif
