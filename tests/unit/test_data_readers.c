/* test_data_readers.c - IDX (plain and gzip) and CIFAR-10 readers on generated fixtures,
 * good and corrupt: wrong magic/type/dims, wrong size, truncated, extra bytes, labels out of
 * range, corrupt gzip; the dying variants exit 2 naming the file (checked in a fork). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/readers.h"
#include "tf_child.h"
#include "tf_test.h"

static char g_dir[256];

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* An IDX file: magic 00 00 type ndim, dims, then data (filled by f(i)), plus `extra` bytes; gz optional. */
static void write_idx(const char *path, int type, int ndim, const uint32_t *dims, size_t data_len, int gz,
                      size_t extra, unsigned char (*f)(size_t)) {
    unsigned char head[20] = {0, 0, (unsigned char)type, (unsigned char)ndim};
    for (int d = 0; d < ndim; d++) put_be32(head + 4 + 4 * d, dims[d]);
    size_t n = 4 + 4 * (size_t)ndim + data_len + extra;
    unsigned char *buf = malloc(n);
    memcpy(buf, head, 4 + 4 * (size_t)ndim);
    for (size_t i = 0; i < data_len + extra; i++) buf[4 + 4 * ndim + i] = f(i);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, buf, (unsigned)n);
        gzclose(g);
    } else {
        FILE *fp = fopen(path, "wb");
        fwrite(buf, 1, n, fp);
        fclose(fp);
    }
    free(buf);
}

static unsigned char pix(size_t i) { return (unsigned char)(i * 7 + 3); }
static unsigned char lab(size_t i) { return (unsigned char)(i % 10); }
static unsigned char bad_lab(size_t i) { return i == 4 ? 12 : (unsigned char)(i % 10); }

static char *path_of(const char *name) {
    static char bufs[8][512];
    static int k = 0;
    char *p = bufs[k++ % 8];
    snprintf(p, 512, "%s/%s", g_dir, name);
    return p;
}

static int read_err(const char *path, char *err) {
    TfIdx idx;
    int rc = tf_idx_read(path, &idx, err, 1024);
    if (!rc) tf_idx_free(&idx);
    return rc;
}

/* Run fn(arg) in a child with stderr captured; returns the exit code. */

static void die_idx(const void *path) { TfIdx idx; tf_idx_load(path, &idx); }
static void die_cifar(const void *path) {
    uint8_t px[5 * 3072], lb[5];
    tf_cifar_load_batch(path, 5, px, lb);
}
static void die_open(const void *root) { tf_dataset_open("mnist", root, "train", 0, 0); }

static void test_idx(void) {
    char err[1024];
    uint32_t im_dims[3] = {7, 4, 5}, lb_dims[1] = {7};
    write_idx(path_of("im"), 8, 3, im_dims, 140, 0, 0, pix);
    write_idx(path_of("im.gz"), 8, 3, im_dims, 140, 1, 0, pix);
    write_idx(path_of("lb"), 8, 1, lb_dims, 7, 0, 0, lab);
    TfIdx a, b;
    CHECK(tf_idx_read(path_of("im"), &a, err, sizeof err) == 0);
    CHECK(tf_idx_read(path_of("im.gz"), &b, err, sizeof err) == 0);
    CHECK(a.ndim == 3 && a.dims[0] == 7 && a.dims[1] == 4 && a.dims[2] == 5 && a.size == 140);
    CHECK(b.size == a.size && !memcmp(a.data, b.data, a.size));
    CHECK(a.data[0] == pix(0) && a.data[139] == pix(139));
    tf_idx_free(&a);
    tf_idx_free(&b);

    int64_t n;
    int h, w;
    uint8_t *px, *lb;
    CHECK(tf_idx_read_pair(path_of("im.gz"), path_of("lb"), 10, &n, &h, &w, &px, &lb, err, sizeof err) == 0);
    CHECK(n == 7 && h == 4 && w == 5 && lb[3] == 3 && px[20] == pix(20));
    free(px);
    free(lb);

    /* Corrupt files: each error names the file and the problem. */
    struct { const char *name; const char *want; } cases[16];
    int nc = 0;
    unsigned char junk[16] = {0x12, 0x34, 0x56, 0x78};
    FILE *f = fopen(path_of("magic"), "wb"); fwrite(junk, 1, 16, f); fclose(f);
    cases[nc].name = "magic"; cases[nc++].want = "not an IDX file";
    write_idx(path_of("type"), 0x0D, 3, im_dims, 140, 0, 0, pix);
    cases[nc].name = "type"; cases[nc++].want = "not supported";
    uint32_t zero[3] = {7, 0, 5}, huge[3] = {0xFFFFFFFFu, 28, 28}, big2[3] = {1000, 5000, 28};
    write_idx(path_of("zero"), 8, 3, zero, 0, 0, 0, pix);
    cases[nc].name = "zero"; cases[nc++].want = "dimension 1 is 0";
    write_idx(path_of("huge"), 8, 3, huge, 10, 0, 0, pix);
    cases[nc].name = "huge"; cases[nc++].want = "outside 1..";
    write_idx(path_of("big2"), 8, 3, big2, 10, 0, 0, pix);
    cases[nc].name = "big2"; cases[nc++].want = "outside 1..";
    write_idx(path_of("short"), 8, 3, im_dims, 100, 0, 0, pix);
    cases[nc].name = "short"; cases[nc++].want = "wrong size";
    write_idx(path_of("long"), 8, 3, im_dims, 140, 0, 3, pix);
    cases[nc].name = "long"; cases[nc++].want = "wrong size";
    write_idx(path_of("short.gz"), 8, 3, im_dims, 100, 1, 0, pix);
    cases[nc].name = "short.gz"; cases[nc++].want = "truncated";
    write_idx(path_of("long.gz"), 8, 3, im_dims, 140, 1, 5, pix);
    cases[nc].name = "long.gz"; cases[nc++].want = "extra bytes";
    uint32_t rank5[1] = {3};
    unsigned char r5[4] = {0, 0, 8, 5};
    f = fopen(path_of("rank"), "wb"); fwrite(r5, 1, 4, f); fwrite(rank5, 1, 4, f); fclose(f);
    cases[nc].name = "rank"; cases[nc++].want = "rank 5";
    /* A gzip stream cut in half, and one with its body damaged. */
    write_idx(path_of("cut.gz"), 8, 3, im_dims, 140, 1, 0, pix);
    f = fopen(path_of("cut.gz"), "rb+");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fclose(f);
    CHECK(truncate(path_of("cut.gz"), len / 2) == 0);
    cases[nc].name = "cut.gz"; cases[nc++].want = "cut.gz";
    write_idx(path_of("bad.gz"), 8, 3, im_dims, 140, 1, 0, pix);
    f = fopen(path_of("bad.gz"), "rb+");
    fseek(f, 14, SEEK_SET);
    unsigned char garbage[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    fwrite(garbage, 1, 8, f);
    fclose(f);
    cases[nc].name = "bad.gz"; cases[nc++].want = "corrupt gzip";
    cases[nc].name = "missing"; cases[nc++].want = "cannot open";
    for (int k = 0; k < nc; k++) {
        err[0] = '\0';
        CHECK_MSG(read_err(path_of(cases[k].name), err) == -1, "%s was accepted", cases[k].name);
        CHECK_MSG(strstr(err, path_of(cases[k].name)) != NULL, "%s: error does not name the file: %s", cases[k].name, err);
        CHECK_MSG(strstr(err, cases[k].want) != NULL, "%s: expected '%s' in: %s", cases[k].name, cases[k].want, err);
    }
    /* Pair checks: count mismatch, label range, wrong rank. */
    uint32_t lb6[1] = {6};
    write_idx(path_of("lb6"), 8, 1, lb6, 6, 0, 0, lab);
    write_idx(path_of("lbbad"), 8, 1, lb_dims, 7, 0, 0, bad_lab);
    CHECK(tf_idx_read_pair(path_of("im"), path_of("lb6"), 10, &n, &h, &w, &px, &lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "holds 6 labels") && strstr(err, "7 images"), "%s", err);
    CHECK(tf_idx_read_pair(path_of("im"), path_of("lbbad"), 10, &n, &h, &w, &px, &lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "label 12 of example 4 is out of range 0..9") && strstr(err, path_of("lbbad")), "%s", err);
    CHECK(tf_idx_read_pair(path_of("lb"), path_of("lb"), 10, &n, &h, &w, &px, &lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "3 dimensions"), "%s", err);
    /* The dying variant: exit code 2, the file named, a hint. */
    char out[4096];
    int code = tf_child_run(die_idx, path_of("short.gz"), out, sizeof out);
    CHECK_MSG(code == 2, "exit code %d", code);
    CHECK_MSG(strstr(out, path_of("short.gz")) && strstr(out, "[rank 0]") && strstr(out, "hint:"), "stderr: %s", out);
}

static void write_cifar(const char *path, int records, int bad_label_at, size_t trim) {
    FILE *f = fopen(path, "wb");
    for (int r = 0; r < records; r++) {
        unsigned char rec[3073];
        rec[0] = (unsigned char)(r == bad_label_at ? 10 : r % 10);
        for (int i = 0; i < 3072; i++) rec[1 + i] = (unsigned char)(r * 31 + i);
        fwrite(rec, 1, r == records - 1 ? 3073 - trim : 3073, f);
    }
    fclose(f);
}

static void test_cifar(void) {
    char err[1024];
    uint8_t px[5 * 3072], lb[5];
    write_cifar(path_of("c_ok.bin"), 5, -1, 0);
    CHECK(tf_cifar_read_batch(path_of("c_ok.bin"), 5, px, lb, err, sizeof err) == 0);
    CHECK(lb[0] == 0 && lb[4] == 4);
    CHECK(px[3072 * 2 + 1024] == (uint8_t)(2 * 31 + 1024)); /* record 2, first green byte */
    CHECK(tf_cifar_read_batch(path_of("c_ok.bin"), 4, px, lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "wrong size") && strstr(err, path_of("c_ok.bin")), "%s", err);
    write_cifar(path_of("c_cut.bin"), 5, -1, 100);
    CHECK(tf_cifar_read_batch(path_of("c_cut.bin"), 5, px, lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "not a whole number of 3073-byte records"), "%s", err);
    write_cifar(path_of("c_lab.bin"), 5, 3, 0);
    CHECK(tf_cifar_read_batch(path_of("c_lab.bin"), 5, px, lb, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "label 10 of record 3 is out of range 0..9"), "%s", err);
    char out[4096];
    int code = tf_child_run(die_cifar, path_of("c_lab.bin"), out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, path_of("c_lab.bin")) && strstr(out, "data fetch cifar10"), "code %d: %s", code, out);
}

static void test_dataset_open(void) {
    char err[2048], root[512], sub[600];
    snprintf(root, sizeof root, "%s/root", g_dir);
    snprintf(sub, sizeof sub, "%s/mnist", root);
    mkdir(root, 0755);
    mkdir(sub, 0755);
    /* Missing files: the error names the path, the dying variant says how to fetch. */
    CHECK(tf_dataset_try_open("mnist", root, "train", 0, 0, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "train-images-idx3-ubyte") && strstr(err, "not found"), "%s", err);
    char out[4096];
    int code = tf_child_run(die_open, root, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "tinyflow data fetch mnist"), "code %d: %s", code, out);
    uint32_t im[3] = {12, 28, 28}, lb[1] = {12}, small[3] = {12, 20, 20};
    char p[700];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", sub);
    write_idx(p, 8, 3, im, 12 * 784, 1, 0, pix);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", sub);
    write_idx(p, 8, 1, lb, 12, 0, 0, lab);
    TfDataset *ds = tf_dataset_try_open("mnist", root, "train", 0, 0, err, sizeof err);
    CHECK_MSG(ds != NULL, "%s", err);
    if (ds) {
        CHECK(ds->n == 12 && ds->c == 1 && ds->h == 28 && ds->w == 28 && ds->num_classes == 10 && ds->pixels);
        int64_t hist[10];
        tf_dataset_histogram(ds, hist);
        CHECK(hist[0] == 2 && hist[1] == 2 && hist[2] == 1 && hist[9] == 1);
        tf_dataset_free(ds);
    }
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", sub);
    write_idx(p, 8, 3, small, 12 * 400, 0, 0, pix);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", sub);
    write_idx(p, 8, 1, lb, 12, 0, 0, lab);
    CHECK(tf_dataset_try_open("mnist", root, "test", 0, 0, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "images are 20x20") && strstr(err, "t10k-images-idx3-ubyte"), "%s", err);
    CHECK(tf_dataset_try_open("mnist", root, "val", 0, 0, err, sizeof err) == NULL && strstr(err, "split"));
    CHECK(tf_dataset_try_open("mnsit", root, "train", 0, 0, err, sizeof err) == NULL && strstr(err, "unknown dataset"));
    CHECK(tf_dataset_try_open("moons", root, "train", 0, 0, err, sizeof err) == NULL && strstr(err, "n_samples"));
    CHECK(tf_data_kind("8gaussians") == TF_DATA_8GAUSSIANS && tf_data_kind("nope") == -1);
    CHECK(!strcmp(tf_data_class_name(TF_DATA_CIFAR10, 9), "truck"));
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/tf_test_readers_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    test_idx();
    test_cifar();
    test_dataset_open();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return tf_test_finish("test_data_readers");
}
