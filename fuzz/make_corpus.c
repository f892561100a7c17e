/* make_corpus.c - writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) with
 * tinyflow's own writers, so every seed is a real file: checkpoints by tf_ckpt_save, PNG
 * grids by tf_png_encode_grid (plus libpng-written colour types the reader must accept or
 * refuse), IDX files plain and gzip, CIFAR-10 records, composed configs dumped by
 * tf_cfg_dump, .npy/.npz by src/eval/npy.c and statistics caches by src/eval/stats.c (when
 * those exist). Run by fuzz/make_corpus.sh; output is deterministic except the save time
 * inside each checkpoint (and the checksums that cover it).
 * Usage: make_corpus OUT_DIR CONFIG_DIR */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ckpt/ckpt.h"
#include "config/config.h"
#include "track/png.h"
#ifdef TF_FUZZ_HAVE_NPY
#include "eval/npy.h"
#endif
#ifdef TF_FUZZ_HAVE_STATS
#include "eval/stats.h"
#endif

static const char *g_out;

static void fail(const char *what) {
    fprintf(stderr, "make_corpus: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void path_of(char *buf, size_t cap, const char *target, const char *name) {
    snprintf(buf, cap, "%s/%s", g_out, target);
    if (mkdir(buf, 0755) && errno != EEXIST) fail(buf);
    snprintf(buf, cap, "%s/%s/%s", g_out, target, name);
}

static void put_file(const char *target, const char *name, const void *data, size_t n) {
    char p[4096];
    path_of(p, sizeof p, target, name);
    FILE *f = fopen(p, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f)) fail(p);
}

static void put_text(const char *target, const char *name, const char *text) {
    put_file(target, name, text, strlen(text));
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) fail(path);
    size_t cap = 1 << 16, len = 0;
    unsigned char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (!b) fail("out of memory");
    *n = len;
    return b;
}

/* ---- checkpoints ---------------------------------------------------------------------- */
static void ckpt_seed(const char *name, const char *arch, const char *config, int n_groups, int big) {
    static float data[4][64];
    for (int g = 0; g < 4; g++)
        for (int k = 0; k < 64; k++) data[g][k] = (float)(g + 1) * 0.01f * (float)(k - 32);
    static const char *const groups[] = {"param", "adam_m", "adam_v", "ema"};
    TfCkptTensor t[12];
    char names[12][64];
    int n = 0;
    for (int g = 0; g < n_groups; g++) {
        const char *base[3] = {"net.0.weight", "net.0.bias", "stem.conv.weight"};
        int shapes[3][4] = {{4, 8}, {8}, {2, 2, 2, 2}}, ndims[3] = {2, 1, 4};
        for (int i = 0; i < (big ? 3 : 2); i++) {
            snprintf(names[n], sizeof names[n], "%s/%s", groups[g], base[i]);
            t[n].name = names[n];
            t[n].ndim = ndims[i];
            t[n].numel = 1;
            for (int d = 0; d < 4; d++) t[n].shape[d] = d < ndims[i] ? shapes[i][d] : 0;
            for (int d = 0; d < ndims[i]; d++) t[n].numel *= (size_t)shapes[i][d];
            t[n].data = data[g];
            n++;
        }
    }
    TfCkptMeta meta;
    memset(&meta, 0, sizeof meta);
    meta.arch = arch;
    meta.config_text = config;
    meta.step = 7;
    meta.epoch = 1;
    meta.loader_cursor = 896;
    meta.seed = 42;
    meta.world_size = 2;
    meta.train_seconds = 12.5;
    char dir[4096], err[2048], path[4200];
    snprintf(dir, sizeof dir, "%s/.ckpt_tmp", g_out);
    if (mkdir(dir, 0755) && errno != EEXIST) fail(dir);
    if (tf_ckpt_save(dir, &meta, t, n, path, sizeof path, err, sizeof err)) {
        fprintf(stderr, "make_corpus: tf_ckpt_save: %s\n", err);
        exit(1);
    }
    size_t len;
    unsigned char *b = slurp(path, &len);
    put_file("ckpt", name, b, len);
    put_file("ckpt_framed", name, b, len);
    free(b);
    unlink(path);
    snprintf(path, sizeof path, "%s/step_%08d.done", dir, 7);
    unlink(path);
    rmdir(dir);
}

/* ---- IDX / CIFAR -------------------------------------------------------------------------- */
static size_t idx_bytes(unsigned char *out, int ndim, const unsigned *dims, unsigned char fill) {
    size_t n = 4, total = 1;
    out[0] = out[1] = 0, out[2] = 8, out[3] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++) {
        out[n++] = (unsigned char)(dims[d] >> 24), out[n++] = (unsigned char)(dims[d] >> 16);
        out[n++] = (unsigned char)(dims[d] >> 8), out[n++] = (unsigned char)dims[d];
        total *= dims[d];
    }
    for (size_t k = 0; k < total; k++) out[n++] = (unsigned char)((k * 37 + fill) % (fill ? 256 : 10));
    return n;
}

static size_t gzip_bytes(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail("deflateInit2");
    z.next_in = (unsigned char *)in, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) fail("deflate");
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static void idx_seeds(void) {
    unsigned char im[4096], lb[256], gz[4096], pair[8192];
    unsigned d_im[3] = {3, 5, 4}, d_lb[1] = {3}, d2[2] = {2, 6}, d4[4] = {1, 2, 2, 3};
    size_t ni = idx_bytes(im, 3, d_im, 1), nl = idx_bytes(lb, 1, d_lb, 0);
    put_file("idx", "images-3x5x4.idx", im, ni);
    put_file("idx", "labels-3.idx", lb, nl);
    size_t ng = gzip_bytes(im, ni, gz, sizeof gz);
    put_file("idx", "images-3x5x4.idx.gz", gz, ng);
    unsigned char tmp[512];
    put_file("idx", "matrix-2x6.idx", tmp, idx_bytes(tmp, 2, d2, 3));
    size_t n4 = idx_bytes(tmp, 4, d4, 5);
    put_file("idx", "tensor-1x2x2x3.idx", tmp, n4);
    put_file("idx", "tensor-1x2x2x3.idx.gz", gz, gzip_bytes(tmp, n4, gz, sizeof gz));
    /* pairs: u32le length of the images file, images, labels */
    size_t at;
    pair[0] = (unsigned char)ni, pair[1] = (unsigned char)(ni >> 8), pair[2] = pair[3] = 0;
    memcpy(pair + 4, im, ni), memcpy(pair + 4 + ni, lb, nl), at = 4 + ni + nl;
    put_file("idx_pair", "plain.pair", pair, at);
    ng = gzip_bytes(im, ni, gz, sizeof gz);
    pair[0] = (unsigned char)ng, pair[1] = (unsigned char)(ng >> 8);
    memcpy(pair + 4, gz, ng);
    unsigned char lgz[512];
    size_t nlg = gzip_bytes(lb, nl, lgz, sizeof lgz);
    memcpy(pair + 4 + ng, lgz, nlg);
    put_file("idx_pair", "gzip.pair", pair, 4 + ng + nlg);
    unsigned d_lb2[1] = {2};
    nl = idx_bytes(lb, 1, d_lb2, 0);
    pair[0] = (unsigned char)ni, pair[1] = (unsigned char)(ni >> 8);
    memcpy(pair + 4, im, ni), memcpy(pair + 4 + ni, lb, nl);
    put_file("idx_pair", "count-mismatch.pair", pair, 4 + ni + nl);

    static unsigned char rec[2 * 3073];
    for (int r = 0; r < 2; r++) {
        rec[r * 3073] = (unsigned char)(r * 7 % 10);
        for (int k = 1; k < 3073; k++) rec[r * 3073 + k] = (unsigned char)(k * (r + 3));
    }
    put_file("cifar", "one-record.bin", rec, 3073);
    put_file("cifar", "two-records.bin", rec, 2 * 3073);
    rec[3073] = 10; /* a label out of range */
    put_file("cifar", "bad-label.bin", rec, 2 * 3073);
}

/* ---- configs -------------------------------------------------------------------------------- */
static void config_seeds(const char *config_dir) {
    static const char *const jobs[][4] = {
        {NULL},
        {"experiment=mnist", NULL},
        {"experiment=cifar10", NULL},
        {"experiment=moons", "model=mlp", NULL},
    };
    char *first = NULL;
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
        int n = 0;
        while (jobs[j][n]) n++;
        TfCfg *cfg;
        TfCfgError e;
        if (tf_cfg_compose(config_dir, "config", jobs[j], n, &cfg, &e)) {
            fprintf(stderr, "make_corpus: compose: %s\n", e.msg);
            exit(1);
        }
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        tf_cfg_dump(cfg, m, 0, &e);
        fclose(m);
        char name[64];
        snprintf(name, sizeof name, "composed-%zu.yaml", j);
        put_file("ckpt_config_diff", name, text, len);
        put_file("yaml", name, text, len);
        if (j == 1) ckpt_seed("mnist-unet-adam-ema.ckpt", "unet", text, 4, 1);
        if (!first) first = text;
        else {
            /* "ckpt text \0 this text" pairs */
            size_t lf = strlen(first);
            char *pairbuf = malloc(lf + 1 + len);
            memcpy(pairbuf, first, lf + 1);
            memcpy(pairbuf + lf + 1, text, len);
            snprintf(name, sizeof name, "pair-0-%zu.yaml", j);
            put_file("ckpt_config_diff", name, pairbuf, lf + 1 + len);
            free(pairbuf);
            free(text);
        }
        tf_cfg_destroy(cfg);
    }
    ckpt_seed("mlp-params-only.ckpt", "mlp", first, 1, 0);
    ckpt_seed("empty-config.ckpt", "mlp", "", 2, 1);
    free(first);
    put_text("ckpt_config_diff", "lists.yaml",
             "model:\n  name: unet\n  ch_mult:\n  - 1\n  - 2\n  attn_res: [16]\n  blocks:\n  - name: a\n    ch: 3\n"
             "  - name: b # comment\n    ch: 'x: y'\n");
}

/* ---- PNG ------------------------------------------------------------------------------------- */
static void png_custom(const char *name, int w, int h, int depth, int ctype, int interlace) {
    char p[4096];
    path_of(p, sizeof p, "png", name);
    FILE *f = fopen(p, "wb");
    if (!f) fail(p);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) fail("libpng");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
        png_set_PLTE(png, info, pal, 4);
    }
    png_write_info(png, info);
    int ch = ctype == PNG_COLOR_TYPE_GRAY ? 1 : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : ctype == PNG_COLOR_TYPE_RGB ? 3 : ctype == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
    size_t rowbytes = ((size_t)w * (size_t)ch * (size_t)depth + 7) / 8;
    unsigned char row[512];
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            for (size_t k = 0; k < rowbytes; k++) row[k] = (unsigned char)(k * 29 + (size_t)y * 7);
            if (ctype == PNG_COLOR_TYPE_PALETTE)
                for (size_t k = 0; k < rowbytes; k++) row[k] &= depth == 8 ? 3 : 0x55;
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void png_seeds(void) {
    float img[3 * 3 * 6 * 5];
    for (size_t k = 0; k < sizeof img / sizeof img[0]; k++) img[k] = (float)((int)(k * 13 % 41) - 20) / 20.0f;
    TfPngBuf b;
    tf_png_encode_grid(&b, img, 1, 1, 6, 5, 0, 0, 0);
    put_file("png", "grid-grey-1.png", b.data, b.size);
    tf_png_buf_free(&b);
    tf_png_encode_grid(&b, img, 3, 3, 6, 5, 0, 0, 1);
    put_file("png", "grid-rgb-3.png", b.data, b.size);
    tf_png_buf_free(&b);
    tf_png_encode_grid(&b, img, 9, 1, 3, 2, 3, 3, 2);
    put_file("png", "grid-grey-9.png", b.data, b.size);
    tf_png_buf_free(&b);
    png_custom("grey-alpha.png", 4, 3, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE);
    png_custom("rgba.png", 3, 4, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE);
    png_custom("rgb-interlaced.png", 9, 9, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7);
    png_custom("grey-16bit.png", 4, 4, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE);
    png_custom("palette.png", 4, 4, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE);
    png_custom("grey-1bit.png", 8, 2, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE);
}

/* ---- npy / npz / stats ----------------------------------------------------------------------- */
#ifdef TF_FUZZ_HAVE_NPY
static void put_npy(const char *name, const char *descr, int ndim, const int64_t *shape, const void *data) {
    size_t len;
    unsigned char *b = tf_npy_encode(descr, ndim, shape, data, &len);
    put_file("npy", name, b, len);
    free(b);
}

/* A zip with one deflated member (as numpy.savez_compressed writes). */
static void npz_deflated(const char *name, const char *member, const unsigned char *data, size_t n) {
    unsigned char comp[8192], z[16384];
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail("deflateInit2");
    s.next_in = (unsigned char *)data, s.avail_in = (uInt)n, s.next_out = comp, s.avail_out = sizeof comp;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) fail("deflate");
    size_t cn = s.total_out;
    deflateEnd(&s);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)n);
    size_t nl = strlen(member), p = 0;
#define P16(v) (z[p++] = (unsigned char)(v), z[p++] = (unsigned char)((v) >> 8))
#define P32(v) (P16((v) & 0xffff), P16((uint32_t)(v) >> 16))
    P32(0x04034b50u), P16(20), P16(0), P16(8), P16(0), P16(0x21), P32(crc), P32(cn), P32(n), P16(nl), P16(0);
    memcpy(z + p, member, nl), p += nl;
    memcpy(z + p, comp, cn), p += cn;
    size_t cd = p;
    P32(0x02014b50u), P16(20), P16(20), P16(0), P16(8), P16(0), P16(0x21), P32(crc), P32(cn), P32(n), P16(nl),
        P16(0), P16(0), P16(0), P16(0), P32(0), P32(0);
    memcpy(z + p, member, nl), p += nl;
    size_t cdlen = p - cd;
    P32(0x06054b50u), P16(0), P16(0), P16(1), P16(1), P32(cdlen), P32(cd), P16(0);
#undef P16
#undef P32
    put_file("npz", name, z, p);
}

static void npy_seeds(void) {
    float f[2 * 1 * 4 * 4];
    for (int k = 0; k < 32; k++) f[k] = (float)k / 16.0f - 1.0f;
    int64_t s4[4] = {2, 1, 4, 4}, s2[2] = {3, 2}, s1[1] = {5};
    put_npy("samples-f4-2x1x4x4.npy", "<f4", 4, s4, f);
    double d[6] = {0.5, -1, 2, 1e-300, 3.25, -0.0};
    put_npy("f8-3x2.npy", "<f8", 2, s2, d);
    int32_t i4[5] = {1, -2, 3, 2147483647, -2147483647 - 1};
    put_npy("i4-5.npy", "<i4", 1, s1, i4);
    int64_t i8[5] = {1, 2, 3, 4, 5};
    put_npy("i8-5.npy", "<i8", 1, s1, i8);
    unsigned char u1[5] = {0, 1, 127, 128, 255};
    put_npy("u1-5.npy", "|u1", 1, s1, u1);
    put_npy("scalar-f4.npy", "<f4", 0, s1, f);
    int64_t z0[2] = {0, 3};
    put_npy("empty-0x3.npy", "<f4", 2, z0, f);
    double mu[3] = {0.1, 0.2, 0.3}, sigma[9] = {1, 0.1, 0, 0.1, 1, 0, 0, 0, 1};
    char p[4096], err[512];
    path_of(p, sizeof p, "npz", "stats-d3.npz");
    if (tf_npz_write_stats(p, 3, mu, sigma, err, sizeof err)) {
        fprintf(stderr, "make_corpus: %s\n", err);
        exit(1);
    }
    size_t len;
    int64_t s3[1] = {3};
    unsigned char *b = tf_npy_encode("<f8", 1, s3, mu, &len);
    npz_deflated("mu-deflated.npz", "mu.npy", b, len);
    free(b);
}
#endif

#ifdef TF_FUZZ_HAVE_STATS
static void stats_seeds(void) {
    TfStats s;
    tf_stats_init(&s, 3);
    float x[4 * 3] = {1, 2, 3, 0.5f, -1, 2, 3, 3, 3, -2, 0, 1};
    tf_stats_add(&s, x, 4);
    char p[4096], err[512];
    path_of(p, sizeof p, "stats", "d3.tfstats");
    if (tf_stats_save(p, &s, "fuzz seed d=3", NULL, 0, err, sizeof err)) {
        fprintf(stderr, "make_corpus: %s\n", err);
        exit(1);
    }
    path_of(p, sizeof p, "stats", "d3-feat4.tfstats");
    if (tf_stats_save(p, &s, "with features", x, 4, err, sizeof err)) {
        fprintf(stderr, "make_corpus: %s\n", err);
        exit(1);
    }
    tf_stats_free(&s);
}
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: make_corpus OUT_DIR CONFIG_DIR\n");
        return 2;
    }
    g_out = argv[1];
    if (mkdir(g_out, 0755) && errno != EEXIST) fail(g_out);
    idx_seeds();
    config_seeds(argv[2]);
    png_seeds();
#ifdef TF_FUZZ_HAVE_NPY
    npy_seeds();
#endif
#ifdef TF_FUZZ_HAVE_STATS
    stats_seeds();
#endif
    return 0;
}
