/* test_npy.c - tests/npy.h: C round trips of <f4 and <i4 files (0-D to 4-D, empty), refusal of
 * wrong dtypes, bad magic, truncated data and unwritable paths; then, with /usr/bin/python3 and
 * numpy (or $TF_PYTHON), numpy reads what C wrote and C reads what numpy wrote (including
 * format 2.0), refusing float64, big-endian, Fortran-order and 5-D files.
 * Exits 77 (after the C-only checks pass) when python3 or numpy is missing. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "tf_test.h"

static char dir[512];

static const char *tmp_path(const char *name) {
    static char buf[8][600];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int run(const char *cmd) {
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Copy the first n bytes of src to dst (to make truncated files). */
static int copy_prefix(const char *src, const char *dst, long n) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    int ok = a && b;
    for (long i = 0; ok && i < n; i++) {
        int c = fgetc(a);
        ok = c != EOF && fputc(c, b) != EOF;
    }
    if (a) fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return ok ? 0 : -1;
}

static void c_round_trips(void) {
    /* 4-D float */
    long s4[4] = {2, 3, 4, 5};
    float f4[120];
    for (int i = 0; i < 120; i++) f4[i] = (float)i * 0.5f - 3.0f;
    f4[7] = -0.0f;
    f4[8] = 1e-30f;
    f4[9] = 3.4e38f;
    CHECK(npy_write_f32(tmp_path("f4d.npy"), f4, 4, s4) == 0);
    CHECK(file_size(tmp_path("f4d.npy")) % 64 == 480 % 64); /* header is a multiple of 64 */
    int nd = -1;
    long sh[4] = {0, 0, 0, 0};
    float *r = npy_read_f32(tmp_path("f4d.npy"), &nd, sh);
    CHECK(r != NULL);
    if (r) {
        CHECK(nd == 4 && sh[0] == 2 && sh[1] == 3 && sh[2] == 4 && sh[3] == 5);
        CHECK(memcmp(r, f4, sizeof f4) == 0);
        free(r);
    }
    /* 1-D */
    long s1[1] = {7};
    CHECK(npy_write_f32(tmp_path("f1d.npy"), f4, 1, s1) == 0);
    r = npy_read_f32(tmp_path("f1d.npy"), &nd, sh);
    CHECK(r && nd == 1 && sh[0] == 7 && sh[1] == 1 && memcmp(r, f4, 7 * sizeof(float)) == 0);
    free(r);
    /* 0-D scalar */
    CHECK(npy_write_f32(tmp_path("f0d.npy"), f4 + 3, 0, NULL) == 0);
    r = npy_read_f32(tmp_path("f0d.npy"), &nd, sh);
    CHECK(r && nd == 0 && r[0] == f4[3]);
    free(r);
    /* empty [0, 3] */
    long se[2] = {0, 3};
    CHECK(npy_write_f32(tmp_path("fempty.npy"), NULL, 2, se) == 0);
    r = npy_read_f32(tmp_path("fempty.npy"), &nd, sh);
    CHECK(r && nd == 2 && sh[0] == 0 && sh[1] == 3 && npy_numel(nd, sh) == 0);
    free(r);
    /* int32 [3, 4] with negatives; y-style vector */
    long si[2] = {3, 4};
    int32_t iv[12];
    for (int i = 0; i < 12; i++) iv[i] = (i - 5) * 100003;
    iv[11] = INT32_MIN;
    CHECK(npy_write_i32(tmp_path("i2d.npy"), iv, 2, si) == 0);
    int32_t *ri = npy_read_i32(tmp_path("i2d.npy"), &nd, sh);
    CHECK(ri && nd == 2 && sh[0] == 3 && sh[1] == 4 && memcmp(ri, iv, sizeof iv) == 0);
    free(ri);

    /* refusals */
    fprintf(stderr, "-- the following npy errors are expected --\n");
    CHECK(npy_read_i32(tmp_path("f4d.npy"), &nd, sh) == NULL);          /* wrong dtype */
    CHECK(npy_read_f32(tmp_path("i2d.npy"), &nd, sh) == NULL);
    CHECK(npy_read_f32(tmp_path("missing.npy"), &nd, sh) == NULL);      /* no such file */
    CHECK(copy_prefix(tmp_path("f4d.npy"), tmp_path("trunc.npy"), file_size(tmp_path("f4d.npy")) - 4) == 0);
    CHECK(npy_read_f32(tmp_path("trunc.npy"), &nd, sh) == NULL);        /* truncated data */
    CHECK(copy_prefix(tmp_path("f4d.npy"), tmp_path("trunch.npy"), 40) == 0);
    CHECK(npy_read_f32(tmp_path("trunch.npy"), &nd, sh) == NULL);       /* truncated header */
    CHECK(write_text(tmp_path("text.npy"), "hello, this is not an npy file at all\n") == 0);
    CHECK(npy_read_f32(tmp_path("text.npy"), &nd, sh) == NULL);         /* bad magic */
    {   /* trailing garbage: file longer than the shape says */
        FILE *f = fopen(tmp_path("f1d.npy"), "ab");
        CHECK(f && fputc(0, f) != EOF && fclose(f) == 0);
        CHECK(npy_read_f32(tmp_path("f1d.npy"), &nd, sh) == NULL);
    }
    long s5[5] = {1, 1, 1, 1, 1};
    CHECK(npy_write_f32(tmp_path("f5d.npy"), f4, 5, s5) == -1);         /* > 4-D */
    long sneg[1] = {-1};
    CHECK(npy_write_f32(tmp_path("fneg.npy"), f4, 1, sneg) == -1);
    CHECK(npy_write_f32("/nonexistent-dir-for-test-npy/x.npy", f4, 1, s1) == -1);
    fprintf(stderr, "-- end of expected errors --\n");
}

static const char *py_script =
    "import sys, numpy as np\n"
    "d = sys.argv[1]\n"
    "a = np.load(d + '/f4d.npy')\n"
    "e = (np.arange(120, dtype=np.float32) * np.float32(0.5) - np.float32(3)).reshape(2, 3, 4, 5)\n"
    "e.flat[7] = -0.0; e.flat[8] = 1e-30; e.flat[9] = 3.4e38\n"
    "assert a.dtype == np.dtype('<f4') and a.shape == (2, 3, 4, 5), (a.dtype, a.shape)\n"
    "assert np.array_equal(a, e) and np.signbit(a.flat[7])\n"
    "s = np.load(d + '/f0d.npy'); assert s.shape == () and s == e.flat[3]\n"
    "z = np.load(d + '/fempty.npy'); assert z.shape == (0, 3) and z.dtype == np.float32\n"
    "i = np.load(d + '/i2d.npy')\n"
    "ei = (np.arange(12, dtype=np.int64) - 5) * 100003; ei[11] = -2**31\n"
    "assert i.dtype == np.dtype('<i4') and i.shape == (3, 4) and np.array_equal(i.ravel(), ei)\n"
    "x = np.linspace(-2, 2, 2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)\n"
    "np.save(d + '/np3d.npy', x)\n"
    "np.save(d + '/npi1d.npy', np.array([4, -7, 10], dtype=np.int32))\n"
    "with open(d + '/np_v2.npy', 'wb') as f:\n"
    "    np.lib.format.write_array(f, x[1], version=(2, 0))\n"
    "np.save(d + '/np_f64.npy', x.astype(np.float64))\n"
    "np.save(d + '/np_be.npy', x.astype('>f4'))\n"
    "np.save(d + '/np_fortran.npy', np.asfortranarray(x))\n"
    "np.save(d + '/np_5d.npy', np.zeros((1, 1, 1, 1, 2), np.float32))\n"
    "print('numpy side ok')\n";

static void numpy_interop(const char *py) {
    char cmd[1400];
    CHECK(write_text(tmp_path("check.py"), py_script) == 0);
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", py, tmp_path("check.py"), dir);
    CHECK_MSG(run(cmd) == 0, "numpy could not read the files C wrote (see above)");

    int nd = -1;
    long sh[4];
    float *r = npy_read_f32(tmp_path("np3d.npy"), &nd, sh);
    CHECK(r && nd == 3 && sh[0] == 2 && sh[1] == 5 && sh[2] == 3 && sh[3] == 1);
    if (r) {
        for (int k = 0; k < 30; k++) CHECK_CLOSE(r[k], -2.0 + 4.0 * k / 29.0, 1e-6, 0);
        free(r);
    }
    int32_t *ri = npy_read_i32(tmp_path("npi1d.npy"), &nd, sh);
    CHECK(ri && nd == 1 && sh[0] == 3 && ri[0] == 4 && ri[1] == -7 && ri[2] == 10);
    free(ri);
    r = npy_read_f32(tmp_path("np_v2.npy"), &nd, sh);
    CHECK(r && nd == 2 && sh[0] == 5 && sh[1] == 3);
    if (r) {
        CHECK_CLOSE(r[0], -2.0 + 4.0 * 15 / 29.0, 1e-6, 0);
        free(r);
    }
    fprintf(stderr, "-- the following npy errors are expected --\n");
    CHECK(npy_read_f32(tmp_path("np_f64.npy"), &nd, sh) == NULL);
    CHECK(npy_read_f32(tmp_path("np_be.npy"), &nd, sh) == NULL);
    CHECK(npy_read_f32(tmp_path("np_fortran.npy"), &nd, sh) == NULL);
    CHECK(npy_read_f32(tmp_path("np_5d.npy"), &nd, sh) == NULL);
    fprintf(stderr, "-- end of expected errors --\n");
}

static void cleanup(void) {
    static const char *names[] = {"f4d.npy", "f1d.npy", "f0d.npy", "fempty.npy", "i2d.npy", "trunc.npy",
                                  "trunch.npy", "text.npy", "f5d.npy", "fneg.npy", "check.py", "np3d.npy",
                                  "npi1d.npy", "np_v2.npy", "np_f64.npy", "np_be.npy", "np_fortran.npy",
                                  "np_5d.npy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) remove(tmp_path(names[i]));
    rmdir(dir);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_npy_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    c_round_trips();

    const char *py = getenv("TF_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import numpy' 2>/dev/null", py);
    int have_numpy = access(py, X_OK) == 0 && run(cmd) == 0;
    if (have_numpy) numpy_interop(py);
    else fprintf(stderr, "test_npy: %s with numpy not available: numpy interop skipped\n", py);

    cleanup();
    int rc = tf_test_finish("test_npy");
    if (rc == 0 && !have_numpy) return TF_TEST_SKIP;
    return rc;
}
