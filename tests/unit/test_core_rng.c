/* test_rng.c - the keyed Philox generator: determinism, key separation, moments. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/rng.h"
#include "tf_test.h"

int main(void) {
    /* Same key, same numbers; any key field changed, different numbers. */
    TfRng a = tf_rng(42, TF_STREAM_NOISE, 7, 3), b = tf_rng(42, TF_STREAM_NOISE, 7, 3);
    CHECK(tf_rng_u32(&a, 12345) == tf_rng_u32(&b, 12345));
    TfRng c[4] = {tf_rng(43, TF_STREAM_NOISE, 7, 3), tf_rng(42, TF_STREAM_TIME, 7, 3),
                  tf_rng(42, TF_STREAM_NOISE, 8, 3), tf_rng(42, TF_STREAM_NOISE, 7, 4)};
    for (int k = 0; k < 4; k++) {
        int same = 0;
        for (uint64_t i = 0; i < 64; i++) same += tf_rng_u32(&a, i) == tf_rng_u32(&c[k], i);
        CHECK_MSG(same < 2, "key variant %d collides on %d of 64 words", k, same);
    }
    /* Fill with an offset equals element-wise draws (so sharded fills agree). */
    float buf[37], one;
    tf_rng_fill_normal(&a, 5, buf, 37);
    int eq = 1;
    for (int i = 0; i < 37; i++) { one = tf_rng_normal(&a, 5 + (uint64_t)i); eq &= one == buf[i]; }
    CHECK(eq);
    /* Moments of 1e6 normals and uniforms. */
    const int n = 1000000;
    double s1 = 0, s2 = 0, s4 = 0, u1 = 0, umin = 1, umax = 0;
    for (int i = 0; i < n; i++) {
        double z = tf_rng_normal(&a, (uint64_t)i), u = tf_rng_uniform(&b, (uint64_t)i + 99);
        s1 += z; s2 += z * z; s4 += z * z * z * z; u1 += u;
        if (u < umin) umin = u;
        if (u > umax) umax = u;
    }
    CHECK_CLOSE(s1 / n, 0.0, 5e-3, 0);
    CHECK_CLOSE(s2 / n, 1.0, 5e-3, 0);
    CHECK_CLOSE(s4 / n, 3.0, 3e-2, 0);
    CHECK_CLOSE(u1 / n, 0.5, 2e-3, 0);
    CHECK(umin >= 0.0 && umax < 1.0);
    /* tf_rng_below stays in range and hits every bucket. */
    int hist[10] = {0};
    for (int i = 0; i < 10000; i++) { uint32_t v = tf_rng_below(&a, (uint64_t)i, 10); if (v < 10) hist[v]++; else hist[0] = -1000000; }
    for (int k = 0; k < 10; k++) CHECK(hist[k] > 850 && hist[k] < 1150);
    return tf_test_finish("test_rng");
}
