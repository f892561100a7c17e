/* test_track_png.c - PNG grids and the PNG reader of track/png.h: a grid written and read
 * back gives exactly the quantised pixels in the right cells with black padding (RGB and
 * grey), automatic grid shapes, clamping of out-of-range and NaN values, atomic writes that
 * leave no temp files, RGBA / grey+alpha / interlaced inputs; corrupt inputs (bad signature,
 * truncated, flipped IDAT byte, 16-bit, palette, empty, oversized) return -1 with the path
 * in the message, and tf_png_load exits 2 for them.
 * Knows nothing about the other tracking sinks. */
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tf_test.h"
#include "track/png.h"
#include "track/track_test_util.h"

static char g_dir[256];

static const char *at(const char *name) {
    static char bufs[4][512];
    static int k = 0;
    char *p = bufs[k++ % 4];
    snprintf(p, 512, "%s/%s", g_dir, name);
    return p;
}

/* A value that is exactly on the 8-bit grid. */
static float q(int byte) { return (float)byte / 127.5f - 1.0f; }

static void test_round_trip(int C) {
    enum { N = 5, H = 3, W = 4, ROWS = 2, COLS = 3, PAD = 2 };
    float img[N * 3 * H * W];
    for (int i = 0; i < N * C * H * W; i++) img[i] = q((i * 37 + 11) % 256);
    const char *path = at(C == 1 ? "grey.png" : "rgb.png");
    tf_png_write_grid(path, img, N, C, H, W, ROWS, COLS, PAD);
    CHECK(tt_count_entries(g_dir, ".tmp.") == 0);
    TfPngImage r;
    char err[512];
    CHECK_MSG(tf_png_read(path, &r, err, sizeof err) == 0, "%s", err);
    CHECK(r.channels == C);
    CHECK(r.width == COLS * W + (COLS + 1) * PAD);
    CHECK(r.height == ROWS * H + (ROWS + 1) * PAD);
    int bad = 0, black_bad = 0;
    for (int y = 0; y < r.height; y++)
        for (int x = 0; x < r.width; x++) {
            int cy = (y - PAD) / (H + PAD), oy = (y - PAD) % (H + PAD);
            int cx = (x - PAD) / (W + PAD), ox = (x - PAD) % (W + PAD);
            int inside = y >= PAD && x >= PAD && oy < H && ox < W;
            int cell = cy * COLS + cx;
            for (int c = 0; c < C; c++) {
                float got = r.pixels[((size_t)c * r.height + y) * r.width + x];
                if (inside && cell < N) {
                    float want = img[(((size_t)cell * C + c) * H + oy) * W + ox];
                    if (got != want) bad++;
                } else if (got != -1.0f) {
                    black_bad++; /* padding and the unused 6th cell are black */
                }
            }
        }
    CHECK_MSG(bad == 0, "%d pixels differ after the round trip (C=%d)", bad, C);
    CHECK_MSG(black_bad == 0, "%d padding pixels are not black (C=%d)", black_bad, C);
    tf_png_image_free(&r);
}

static void test_quantise_and_shapes(void) {
    /* 7 grey 1x1 images, auto grid: cols = ceil(sqrt 7) = 3, rows = 3; pad 0. */
    float v[7] = {-5.0f, -1.0f, 0.0f, 1.0f, 7.0f, NAN, 0.5f};
    TfPngBuf b;
    tf_png_encode_grid(&b, v, 7, 1, 1, 1, 0, 0, 0);
    CHECK(b.width == 3 && b.height == 3 && b.channels == 1);
    TfPngImage r;
    char err[256];
    CHECK_MSG(tf_png_decode(b.data, b.size, "mem", &r, err, sizeof err) == 0, "%s", err);
    int want[9] = {0, 0, 128, 255, 255, 0, 191, 0, 0}; /* 127.5 rounds to even 128; 0.5 -> 191.25 */
    for (int i = 0; i < 9; i++) CHECK_MSG(tf_png_byte(&r, 0, i / 3, i % 3) == want[i], "pixel %d = %d, want %d", i,
                                          tf_png_byte(&r, 0, i / 3, i % 3), want[i]);
    tf_png_image_free(&r);
    tf_png_buf_free(&b);
    /* rows given, cols derived; cols given, rows derived. */
    tf_png_encode_grid(&b, v, 7, 1, 1, 1, 2, 0, 1);
    CHECK(b.width == 4 * 1 + 5 && b.height == 2 + 3);
    tf_png_buf_free(&b);
    tf_png_encode_grid(&b, v, 7, 1, 1, 1, 0, 7, 0);
    CHECK(b.width == 7 && b.height == 1);
    tf_png_buf_free(&b);
}

/* A PNG written directly with libpng (colour type / depth / interlace of our choosing). */
static void write_raw(const char *path, int w, int h, int ctype, int depth, int interlace, const unsigned char *px,
                      int bytes_per_px) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "libpng failed writing the fixture\n");
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[2] = {{0, 0, 0}, {255, 255, 255}};
        png_set_PLTE(png, info, pal, 2);
    }
    png_write_info(png, info);
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)h);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)px + (size_t)y * (size_t)w * (size_t)bytes_per_px;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
}

static void test_other_layouts(void) {
    enum { W = 9, H = 7 };
    unsigned char px[W * H * 4];
    for (int i = 0; i < W * H * 4; i++) px[i] = (unsigned char)(i * 13 + 1);
    TfPngImage r;
    char err[256];
    /* RGBA: alpha dropped, RGB exact. Interlaced RGBA too. */
    for (int inter = 0; inter < 2; inter++) {
        write_raw(at("rgba.png"), W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, inter ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                  px, 4);
        CHECK_MSG(tf_png_read(at("rgba.png"), &r, err, sizeof err) == 0, "%s", err);
        CHECK(r.channels == 3 && r.width == W && r.height == H);
        int bad = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) bad += tf_png_byte(&r, c, y, x) != px[(y * W + x) * 4 + c];
        CHECK_MSG(bad == 0, "%d RGBA pixels differ (interlace %d)", bad, inter);
        tf_png_image_free(&r);
    }
    write_raw(at("ga.png"), W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, px, 2);
    CHECK_MSG(tf_png_read(at("ga.png"), &r, err, sizeof err) == 0, "%s", err);
    CHECK(r.channels == 1 && tf_png_byte(&r, 0, 1, 2) == px[(1 * W + 2) * 2]);
    tf_png_image_free(&r);
}

static int read_fails(const char *name, const char *want) {
    TfPngImage r;
    char err[512] = "";
    int rc = tf_png_read(at(name), &r, err, sizeof err);
    int ok = rc == -1 && strstr(err, name) && (!want || strstr(err, want)) && r.pixels == NULL;
    if (!ok) fprintf(stderr, "  %s: rc %d, err '%s' (wanted '%s')\n", name, rc, err, want ? want : "");
    if (rc == 0) tf_png_image_free(&r);
    return ok;
}

static void load_it(void *path) {
    TfPngImage r;
    tf_png_load(path, &r);
}

static void test_corrupt(void) {
    float img[3 * 16 * 16];
    for (int i = 0; i < 3 * 16 * 16; i++) img[i] = q((i * 7) % 256);
    TfPngBuf b;
    tf_png_encode_grid(&b, img, 1, 3, 16, 16, 1, 1, 0);
    CHECK(tt_write(at("sig.png"), "GIF89a\0\0\0\0", 10) == 0);
    CHECK(read_fails("sig.png", "signature"));
    CHECK(tt_write(at("empty.png"), "", 0) == 0);
    CHECK(read_fails("empty.png", "signature"));
    CHECK(tt_write(at("trunc.png"), b.data, b.size / 2) == 0);
    CHECK(read_fails("trunc.png", NULL));
    /* Flip one byte inside the IDAT payload: libpng's CRC check must reject it. */
    unsigned char *bad = malloc(b.size);
    memcpy(bad, b.data, b.size);
    unsigned char *idat = NULL;
    for (size_t i = 8; i + 8 < b.size; i++)
        if (!memcmp(bad + i, "IDAT", 4)) {
            idat = bad + i + 4;
            break;
        }
    CHECK(idat != NULL);
    if (idat) idat[5] ^= 0x40;
    CHECK(tt_write(at("flip.png"), bad, b.size) == 0);
    CHECK(read_fails("flip.png", NULL));
    /* A huge declared width in IHDR (with a correct CRC) is refused before any allocation. */
    memcpy(bad, b.data, b.size);
    bad[16] = 0x7F; /* width = 0x7F000010 */
    uLong crc = crc32(0, bad + 12, 17);
    bad[29] = (unsigned char)(crc >> 24), bad[30] = (unsigned char)(crc >> 16);
    bad[31] = (unsigned char)(crc >> 8), bad[32] = (unsigned char)crc;
    CHECK(tt_write(at("huge.png"), bad, b.size) == 0);
    CHECK(read_fails("huge.png", NULL));
    free(bad);
    unsigned char px16[4 * 4 * 2] = {0};
    write_raw(at("deep.png"), 4, 4, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, px16, 2);
    CHECK(read_fails("deep.png", "bit depth 16"));
    unsigned char pal[4 * 4] = {0, 1, 0, 1};
    write_raw(at("pal.png"), 4, 4, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, pal, 1);
    CHECK(read_fails("pal.png", "colour type"));
    CHECK(read_fails("missing.png", "cannot open"));
    CHECK(tt_dies(load_it, (void *)at("flip.png"), 2, "flip.png"));
    CHECK(tt_dies(load_it, (void *)at("missing.png"), 2, "missing.png"));
    tf_png_buf_free(&b);
}

static void bad_shape(void *arg) {
    int which = *(int *)arg;
    float v[4] = {0};
    TfPngBuf b;
    if (which == 0) tf_png_encode_grid(&b, v, 4, 2, 1, 1, 2, 2, 0); /* C=2 */
    else if (which == 1) tf_png_encode_grid(&b, v, 4, 1, 1, 1, 1, 3, 0); /* 4 > 1x3 */
    else tf_png_encode_grid(&b, v, 1, 1, 20000, 1, 1, 1, 0); /* side cap */
}

int main(void) {
    tt_tempdir(g_dir, sizeof g_dir, "png");
    test_round_trip(3);
    test_round_trip(1);
    test_quantise_and_shapes();
    test_other_layouts();
    test_corrupt();
    for (int which = 0; which < 3; which++) CHECK(tt_dies(bad_shape, &which, 2, NULL));
    tt_rmtree(g_dir);
    return tf_test_finish("test_track_png");
}
