/* test_data_toy.c - the 2-D toy generators (determinism, keyed by seed/split/index, each
 * distribution's geometry and labels) and the SHA-256 / MD5 used to check fetched files
 * (published test vectors, gzip-transparent file hashing, the fetch file table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/fetch.h"
#include "data/hash.h"
#include "data/toy.h"
#include "tf_test.h"

static void test_toys(void) {
    const int n = 20000;
    for (int kind = TF_DATA_MOONS; kind <= TF_DATA_CIRCLES; kind++) {
        TfDataset *ds = tf_dataset_open(tf_data_name((TfDataKind)kind), NULL, "train", n, 7);
        TfDataset *again = tf_dataset_open(tf_data_name((TfDataKind)kind), NULL, "train", n, 7);
        TfDataset *other = tf_dataset_open(tf_data_name((TfDataKind)kind), NULL, "train", n, 8);
        TfDataset *test = tf_dataset_open(tf_data_name((TfDataKind)kind), NULL, "test", n, 7);
        CHECK(ds->n == n && ds->c == 2 && ds->h == 1 && ds->w == 1 && ds->values && !ds->pixels);
        CHECK_MSG(!memcmp(ds->values, again->values, (size_t)n * 2 * sizeof(float)), "%s not deterministic", ds->name);
        CHECK_MSG(memcmp(ds->values, other->values, 64), "%s ignores the seed", ds->name);
        CHECK_MSG(memcmp(ds->values, test->values, 64), "%s: train and test splits are equal", ds->name);
        /* Point i is a pure function of (seed, split, i). */
        float p[2];
        int lab;
        tf_toy_point((TfDataKind)kind, 7, 0, 12345, p, &lab);
        CHECK(p[0] == ds->values[2 * 12345] && p[1] == ds->values[2 * 12345 + 1] && lab == ds->labels[12345]);
        int64_t hist[8] = {0};
        tf_dataset_histogram(ds, hist);
        int finite = 1, shape = 1;
        for (int i = 0; i < n; i++) {
            double x = ds->values[2 * i], y = ds->values[2 * i + 1];
            int l = ds->labels[i];
            finite &= isfinite(x) && isfinite(y);
            if (kind == TF_DATA_MOONS) {
                /* Undo the centring/scaling, then distance to the moon's circle is ~1. */
                double u = x / 2 + 0.5, v = y / 2 + 0.25;
                double r = l == 0 ? hypot(u, v) : hypot(u - 1, v - 0.5);
                shape &= fabs(r - 1) < 0.35 && (l == 0 ? v > -0.3 : v < 0.8);
            } else if (kind == TF_DATA_8GAUSSIANS) {
                double a = l * 3.14159265358979 / 4;
                shape &= hypot(x - 2 * cos(a), y - 2 * sin(a)) < 1.2;
            } else if (kind == TF_DATA_CHECKERBOARD) {
                int cx = (int)floor(x + 2), cy = (int)floor(y + 2);
                shape &= cx >= 0 && cx < 4 && cy >= 0 && cy < 4 && (cx + cy) % 2 == 0 && l == 0;
            } else {
                shape &= fabs(hypot(x, y) - (l == 0 ? 2.0 : 1.0)) < 0.35;
            }
        }
        CHECK_MSG(finite, "%s: non-finite points", ds->name);
        CHECK_MSG(shape, "%s: points off the distribution", ds->name);
        int classes = ds->num_classes;
        for (int k = 0; k < classes; k++)
            CHECK_MSG(llabs(hist[k] - n / classes) < n / classes / 10, "%s: class %d has %lld of %d", ds->name, k,
                      (long long)hist[k], n);
        tf_dataset_free(ds);
        tf_dataset_free(again);
        tf_dataset_free(other);
        tf_dataset_free(test);
    }
}

static void hex_of(const char *msg, size_t len, size_t repeat, char *sha, char *md5) {
    TfSha256 s;
    TfMd5 m;
    uint8_t d[32];
    tf_sha256_init(&s);
    tf_md5_init(&m);
    for (size_t r = 0; r < repeat; r++) { tf_sha256_update(&s, msg, len); tf_md5_update(&m, msg, len); }
    tf_sha256_final(&s, d);
    tf_hex(d, 32, sha);
    tf_md5_final(&m, d);
    tf_hex(d, 16, md5);
}

static void test_hashes(void) {
    char sha[65], md5[33];
    hex_of("", 0, 1, sha, md5);
    CHECK(!strcmp(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(!strcmp(md5, "d41d8cd98f00b204e9800998ecf8427e"));
    hex_of("abc", 3, 1, sha, md5);
    CHECK(!strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(!strcmp(md5, "900150983cd24fb0d6963f7d28e17f72"));
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), 1, sha, md5);
    CHECK(!strcmp(sha, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    hex_of("a", 1, 1000000, sha, md5);
    CHECK(!strcmp(sha, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    CHECK(!strcmp(md5, "7707d6ae4e027c70eea2a935c2296f21"));
    const char *fox = "The quick brown fox jumps over the lazy dog";
    hex_of(fox, strlen(fox), 1, sha, md5);
    CHECK(!strcmp(md5, "9e107d9d372bb6826bd81d3542a419d6"));
    /* A file and its gzip hash the same with gunzip = 1. */
    char dir[] = "/tmp/tf_test_hash_XXXXXX", plain[64], gz[64], err[512];
    if (!mkdtemp(dir)) return;
    snprintf(plain, sizeof plain, "%s/f", dir);
    snprintf(gz, sizeof gz, "%s/f.gz", dir);
    FILE *f = fopen(plain, "wb");
    gzFile g = gzopen(gz, "wb");
    for (int i = 0; i < 300000; i++) { unsigned char c = (unsigned char)(i * 13); fputc(c, f); gzwrite(g, &c, 1); }
    fclose(f);
    gzclose(g);
    char s1[65], s2[65], s3[65];
    uint64_t n1, n2, n3;
    CHECK(tf_hash_file(plain, 0, s1, NULL, &n1, err, sizeof err) == 0);
    CHECK(tf_hash_file(gz, 1, s2, NULL, &n2, err, sizeof err) == 0);
    CHECK(tf_hash_file(gz, 0, s3, NULL, &n3, err, sizeof err) == 0);
    CHECK(!strcmp(s1, s2) && n1 == 300000 && n2 == 300000 && strcmp(s1, s3) && n3 < n1);
    CHECK(tf_hash_file("/nonexistent/x", 0, s1, NULL, &n1, err, sizeof err) == -1 && strstr(err, "/nonexistent/x"));
    unlink(plain);
    unlink(gz);
    rmdir(dir);
}

static void test_fetch_table(void) {
    size_t n;
    const TfDataFile *m = tf_data_files("mnist", &n);
    CHECK(m && n == 4 && m[0].size == 47040016 && m[1].size == 60008 && m[2].size == 7840016 && m[3].size == 10008);
    for (size_t k = 0; k < n; k++) CHECK(strlen(m[k].sha256) == 64);
    const TfDataFile *c = tf_data_files("cifar10", &n);
    CHECK(c && n == 6 && c[5].size == 30730000 && !strcmp(c[5].name, "test_batch.bin"));
    CHECK(tf_data_files("moons", &n) == NULL && n == 0);
    /* verify reports the first missing file by path. */
    char err[1024];
    CHECK(tf_data_verify("mnist", "/nonexistent-root", err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "/nonexistent-root/mnist/train-images-idx3-ubyte"), "%s", err);
}

int main(void) {
    test_toys();
    test_hashes();
    test_fetch_table();
    return tf_test_finish("test_data_toy");
}
