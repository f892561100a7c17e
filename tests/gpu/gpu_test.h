/* gpu_test.h - what the gpu tests share: the skip when no GPU is visible (exit 77, which CTest
 * reports as skipped), device buffers through the CUDA backend's own copies, random fills,
 * and the comparisons against the CPU ops.
 * Tolerances are NORM-WISE: max_i |gpu_i - cpu_i| <= rtol * max_i |cpu_i| (plus 1e-30), so
 * sums that cancel do not make a per-element relative test meaningless. */
#ifndef TF_GPU_TEST_H
#define TF_GPU_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_cuda.h"
#include "core/check.h"
#include "ops/ops_cuda.h"
#include "tf_test.h"

static const TfBackend *g_be;

/* Exit 77 (skipped) unless a GPU is visible; else bring up the CUDA backend on device 0. */
static inline void gpu_require(const char *test) {
    if (tf_cuda_device_count() <= 0) {
        char why[512];
        printf("%s: SKIPPED: %s\n", test, tf_cuda_describe_devices(why, sizeof why));
        exit(TF_TEST_SKIP);
    }
    g_be = tf_backend_cuda(0);
    char d[1024];
    printf("%s: %s\n", test, tf_cuda_describe_devices(d, sizeof d));
}

/* Uniform in [-scale, scale), the same generator as gradcheck.h's gc_fill. */
static inline void fill(float *x, size_t n, unsigned seed, float scale) {
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = scale * ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f);
    }
}

static inline float *hnew(size_t n) { return (float *)calloc(n ? n : 1, sizeof(float)); }
static inline float *hrand(size_t n, unsigned seed, float scale) {
    float *h = hnew(n);
    fill(h, n, seed, scale);
    return h;
}
static inline float *dnew(size_t n) { return (float *)g_be->alloc((n ? n : 1) * sizeof(float)); }
static inline float *dcopy(const float *h, size_t n) {
    float *d = dnew(n);
    g_be->upload(d, h, n * sizeof(float));
    return d;
}
static inline void dput(float *d, const float *h, size_t n) { g_be->upload(d, h, n * sizeof(float)); }
static inline float *hget(const float *d, size_t n) {
    float *h = hnew(n);
    g_be->download(h, d, n * sizeof(float));
    return h;
}
/* Fill device memory with NaNs (all bits set): an op that must overwrite may not read it. */
static inline void dpoison(float *d, size_t n) {
    TF_CUDA_CHECK(cudaMemsetAsync(d, 0xff, n * sizeof(float), tf_cuda_stream()));
}
static inline void dfree(void *d) { g_be->release(d); }

/* Norm-wise comparison of a device array with the CPU result. */
static inline double cmp_dev(const char *what, const float *dev, const float *cpu, size_t n, double rtol) {
    float *g = hget(dev, n);
    double err = 0.0, scale = 0.0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(g[i]) != isnan(cpu[i])) nan = 1;
        double e = fabs((double)g[i] - cpu[i]);
        if (e > err) err = e;
        if (fabs(cpu[i]) > scale) scale = fabs(cpu[i]);
    }
    double tol = rtol * scale + 1e-30;
    CHECK_MSG(!nan && err <= tol, "%s: max |gpu - cpu| = %.3g > %.3g (rtol %.1g x max|cpu| %.3g)%s", what, err, tol,
              rtol, scale, nan ? " (NaN)" : "");
    printf("  %-44s max err %.2e  scale %.2e  rel %.2e  (tol %.0e)\n", what, err, scale, scale > 0 ? err / scale : err,
           rtol);
    free(g);
    return scale > 0 ? err / scale : err;
}

/* Bitwise comparison (n elements of `size` bytes). */
static inline void cmp_dev_exact(const char *what, const void *dev, const void *cpu, size_t n, size_t size) {
    void *g = malloc(n * size > 0 ? n * size : 1);
    g_be->download(g, dev, n * size);
    size_t bad = 0, first = (size_t)-1;
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)g + i * size, (const char *)cpu + i * size, size)) {
            if (first == (size_t)-1) first = i;
            bad++;
        }
    CHECK_MSG(bad == 0, "%s: %zu of %zu elements differ bitwise (first at %zu)", what, bad, n, first);
    printf("  %-44s bitwise %s\n", what, bad ? "DIFFERENT" : "identical");
    free(g);
}

#endif
