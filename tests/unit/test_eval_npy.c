/* test_eval_npy.c - .npy / .npz I/O of eval/npy.c without Python:
 *   - encode/decode round trips (1-D, 2-D, 4-D; float32, float64, uint8), preamble length a
 *     multiple of 64 ending in '\n', shape text "(3,)" / "(2, 5)";
 *   - an .npz of mu/sigma reads back bitwise; its zip structure has the stored-method
 *     local headers, CRC-32s that zlib recomputes, and an end-of-central-directory record;
 *   - a deflated member (written here with zlib's raw deflate) reads back;
 *   - a wrong CRC, a missing member, a truncated .npy and a Fortran-order header are refused
 *     with the file named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "eval/npy.h"
#include "tf_test.h"

static char g_dir[128];

static const char *tmp(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void test_roundtrip(void) {
    float f[2 * 3 * 4 * 5];
    for (int i = 0; i < 120; i++) f[i] = (float)i * 0.25f - 7;
    int64_t s4[4] = {2, 3, 4, 5}, s1[1] = {3}, s2[2] = {2, 5};
    size_t len;
    unsigned char *b = tf_npy_encode("<f4", 4, s4, f, &len);
    size_t hl = b[8] | (size_t)b[9] << 8;
    CHECK((10 + hl) % 64 == 0 && b[10 + hl - 1] == '\n');
    TfNpy a;
    char err[1024];
    CHECK(tf_npy_decode(b, len, "mem", &a, err, sizeof err) == 0);
    CHECK(a.ndim == 4 && a.shape[0] == 2 && a.shape[3] == 5 && !strcmp(a.descr, "<f4") && !memcmp(a.data, f, sizeof f));
    tf_npy_free(&a);
    free(b);
    double dv[3] = {1.5, -2, 1e300};
    b = tf_npy_encode("<f8", 1, s1, dv, &len);
    CHECK(strstr((char *)b + 10, "'shape': (3,)") != NULL);
    free(b);
    unsigned char u[10] = {0, 1, 2, 3, 4, 250, 251, 252, 253, 255};
    CHECK(tf_npy_write(tmp("u.npy"), "|u1", 2, s2, u, err, sizeof err) == 0);
    CHECK(tf_npy_read(tmp("u.npy"), &a, err, sizeof err) == 0);
    CHECK(a.ndim == 2 && a.shape[1] == 5 && !memcmp(a.data, u, 10));
    tf_npy_free(&a);
    /* a truncated file and a Fortran-order header */
    FILE *fp = fopen(tmp("cut.npy"), "wb");
    b = tf_npy_encode("<f4", 4, s4, f, &len);
    fwrite(b, 1, len - 8, fp);
    fclose(fp);
    CHECK(tf_npy_read(tmp("cut.npy"), &a, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "cut.npy") && strstr(err, "truncated"), "%s", err);
    char *h = strstr((char *)b + 10, "False");
    memcpy(h, "True ", 5);
    CHECK(tf_npy_decode(b, len, "fo", &a, err, sizeof err) == -1 && strstr(err, "fortran"));
    free(b);
}

static unsigned get16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long get32(const unsigned char *p) { return get16(p) | (unsigned long)get16(p + 2) << 16; }

static void test_npz(void) {
    enum { d = 5 };
    double mu[d], sigma[d * d];
    for (int i = 0; i < d; i++) mu[i] = i - 2.5;
    for (int i = 0; i < d * d; i++) sigma[i] = (i / d == i % d) ? 2.0 + i : 0.1 * i;
    char err[1024];
    CHECK(tf_npz_write_stats(tmp("s.npz"), d, mu, sigma, err, sizeof err) == 0);
    TfNpy a, b;
    CHECK_MSG(tf_npz_read(tmp("s.npz"), "mu", &a, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(tf_npz_read(tmp("s.npz"), "sigma.npy", &b, err, sizeof err) == 0, "%s", err);
    CHECK(a.ndim == 1 && a.shape[0] == d && !memcmp(a.data, mu, sizeof mu));
    CHECK(b.ndim == 2 && b.shape[1] == d && !memcmp(b.data, sigma, sizeof sigma));
    tf_npy_free(&a);
    tf_npy_free(&b);
    /* zip structure: first local header, stored, CRC as zlib computes it; EOCD with 2 entries */
    FILE *f = fopen(tmp("s.npz"), "rb");
    unsigned char z[4096];
    size_t n = fread(z, 1, sizeof z, f);
    fclose(f);
    CHECK(get32(z) == 0x04034b50 && get16(z + 8) == 0 && get16(z + 26) == 6 && !memcmp(z + 30, "mu.npy", 6));
    unsigned long crc = crc32(0L, z + 36, (uInt)get32(z + 18));
    CHECK(crc == get32(z + 14));
    CHECK(get32(z + n - 22) == 0x06054b50 && get16(z + n - 22 + 10) == 2);
    CHECK(tf_npz_read(tmp("s.npz"), "nope", &a, err, sizeof err) == -1 && strstr(err, "no member 'nope.npy'"));
    /* corrupt one data byte of mu.npy: the CRC must catch it */
    z[36 + 128] ^= 1;
    f = fopen(tmp("bad.npz"), "wb");
    fwrite(z, 1, n, f);
    fclose(f);
    CHECK(tf_npz_read(tmp("bad.npz"), "mu", &a, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "bad.npz") && strstr(err, "corrupt"), "%s", err);
}

/* A one-member zip whose member is raw-deflated (method 8), as numpy.savez_compressed writes. */
static void test_deflated(void) {
    float f[64];
    for (int i = 0; i < 64; i++) f[i] = (float)(i % 7);
    int64_t s[1] = {64};
    size_t len;
    unsigned char *npy = tf_npy_encode("<f4", 1, s, f, &len), comp[4096];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    CHECK(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_in = npy, zs.avail_in = (uInt)len, zs.next_out = comp, zs.avail_out = sizeof comp;
    CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    size_t cl = zs.total_out;
    deflateEnd(&zs);
    unsigned long crc = crc32(0L, npy, (uInt)len);
    unsigned char z[8192], *p = z;
#define P16(v) (*p++ = (unsigned char)((v) & 255), *p++ = (unsigned char)(((v) >> 8) & 255))
#define P32(v) (P16((v) & 0xffff), P16(((unsigned long)(v) >> 16) & 0xffff))
    P32(0x04034b50); P16(20); P16(0); P16(8); P16(0); P16(0x21); P32(crc); P32(cl); P32(len); P16(5); P16(0);
    memcpy(p, "x.npy", 5), p += 5;
    memcpy(p, comp, cl), p += cl;
    size_t cdo = (size_t)(p - z);
    P32(0x02014b50); P16(20); P16(20); P16(0); P16(8); P16(0); P16(0x21); P32(crc); P32(cl); P32(len); P16(5);
    P16(0); P16(0); P16(0); P16(0); P32(0); P32(0);
    memcpy(p, "x.npy", 5), p += 5;
    size_t cds = (size_t)(p - z) - cdo;
    P32(0x06054b50); P16(0); P16(0); P16(1); P16(1); P32(cds); P32(cdo); P16(0);
    FILE *fp = fopen(tmp("c.npz"), "wb");
    fwrite(z, 1, (size_t)(p - z), fp);
    fclose(fp);
    TfNpy a;
    char err[1024];
    CHECK_MSG(tf_npz_read(tmp("c.npz"), "x", &a, err, sizeof err) == 0, "%s", err);
    CHECK(a.numel == 64 && !memcmp(a.data, f, sizeof f));
    tf_npy_free(&a);
    free(npy);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/tf_test_npy_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    test_roundtrip();
    test_npz();
    test_deflated();
    const char *names[] = {"u.npy", "cut.npy", "s.npz", "bad.npz", "c.npz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp(names[i]));
    rmdir(g_dir);
    return tf_test_finish("test_eval_npy");
}
