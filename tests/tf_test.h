/* tf_test.h - the minimal assertion kit every test uses.
 * A check that fails prints file:line and what differed, and is counted;
 * tf_test_finish() prints "N passed, N failed" and returns the exit code. */
#ifndef TF_TEST_H
#define TF_TEST_H

#include <math.h>
#include <stdio.h>

static int tf_test_pass = 0, tf_test_fail = 0;

#define TF_TEST_SKIP 77

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) tf_test_pass++;                                                     \
        else { tf_test_fail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (cond) tf_test_pass++;                                                     \
        else { tf_test_fail++; fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
               fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }                   \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                 \
    do {                                                                              \
        double _a = (double)(a), _b = (double)(b);                                    \
        if (fabs(_a - _b) <= (atol) + (rtol) * fabs(_b) && !isnan(_a) && !isnan(_b)) tf_test_pass++; \
        else { tf_test_fail++; fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g (atol %g rtol %g)\n", \
                   __FILE__, __LINE__, #a, _a, #b, _b, (double)(atol), (double)(rtol)); } \
    } while (0)

static inline int tf_test_finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, tf_test_pass, tf_test_fail);
    return tf_test_fail ? 1 : 0;
}

#endif
