/* png.c - PNG grids and the validated PNG reader of png.h, on libpng.
 * libpng reports errors by longjmp: every setjmp lives in a small function whose state sits
 * in a caller-owned context struct, so nothing that changes after setjmp is a local.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#include "track/png.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "track/util.h"

/* --- libpng error plumbing ------------------------------------------------------------- */

typedef struct {
    char msg[256];
} PngErr;

static void on_png_error(png_structp png, png_const_charp msg) {
    PngErr *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* warnings (e.g. unknown ancillary chunks) do not change the pixels */
}

/* --- encoding ----------------------------------------------------------------------------- */

typedef struct {
    TfStrBuf out;
    PngErr err;
    png_structp png;
    png_infop info;
    unsigned char *pixels; /* height rows of width*channels bytes */
    png_bytep *rows;
    int width, height, channels;
} EncCtx;

static void enc_write(png_structp png, png_bytep data, png_size_t n) {
    EncCtx *c = png_get_io_ptr(png);
    tf_sb_append(&c->out, (const char *)data, n);
}

static void enc_flush(png_structp png) { (void)png; }

static int encode_png(EncCtx *c) {
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c->err, on_png_error, on_png_warning);
    if (!c->png) return -1;
    c->info = png_create_info_struct(c->png);
    if (!c->info) return -1;
    if (setjmp(png_jmpbuf(c->png))) return -1;
    png_set_write_fn(c->png, c, enc_write, enc_flush);
    png_set_IHDR(c->png, c->info, (png_uint_32)c->width, (png_uint_32)c->height, 8,
                 c->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    png_write_image(c->png, c->rows);
    png_write_end(c->png, NULL);
    return 0;
}

static unsigned char quantise(float v) {
    float x = (v + 1.0f) * 127.5f;
    if (!(x >= 0.0f)) return 0; /* also NaN */
    if (x >= 255.0f) return 255;
    return (unsigned char)lrintf(x);
}

static void check_grid_shape(int n, int C, int H, int W, int *rows, int *cols, int pad) {
    if (n < 1 || H < 1 || W < 1 || pad < 0 || *rows < 0 || *cols < 0)
        tf_die_usage("pass n, H, W >= 1, pad >= 0 and rows, cols >= 0",
                     "bad image grid shape: n=%d C=%d H=%d W=%d rows=%d cols=%d pad=%d", n, C, H, W,
                     *rows, *cols, pad);
    if (C != 1 && C != 3)
        tf_die_usage("image grids are grey (C=1) or RGB (C=3)", "cannot write a PNG grid with C=%d", C);
    if (*rows == 0 && *cols == 0) {
        int c = (int)ceil(sqrt((double)n));
        while (c > 1 && (c - 1) * (c - 1) >= n) c--;
        *cols = c;
    }
    if (*cols == 0) *cols = (n + *rows - 1) / *rows;
    if (*rows == 0) *rows = (n + *cols - 1) / *cols;
    if ((long long)*rows * *cols < n)
        tf_die_usage("make rows * cols at least the number of images", "%d images do not fit a %dx%d grid",
                     n, *rows, *cols);
    long long gw = (long long)*cols * W + (long long)(*cols + 1) * pad;
    long long gh = (long long)*rows * H + (long long)(*rows + 1) * pad;
    if (gw > TF_PNG_MAX_SIDE || gh > TF_PNG_MAX_SIDE || gw * gh > TF_PNG_MAX_PIXELS)
        tf_die_usage("write fewer or smaller images per grid", "image grid %lldx%lld exceeds the %d-pixel side cap",
                     gw, gh, TF_PNG_MAX_SIDE);
}

void tf_png_encode_grid(TfPngBuf *out, const float *images, int n, int C, int H, int W, int rows,
                        int cols, int pad) {
    check_grid_shape(n, C, H, W, &rows, &cols, pad);
    EncCtx c;
    memset(&c, 0, sizeof c);
    c.width = cols * W + (cols + 1) * pad;
    c.height = rows * H + (rows + 1) * pad;
    c.channels = C;
    size_t stride = (size_t)c.width * (size_t)C;
    c.pixels = tf_calloc((size_t)c.height, stride);
    c.rows = tf_malloc(sizeof(png_bytep) * (size_t)c.height);
    for (int y = 0; y < c.height; y++) c.rows[y] = c.pixels + (size_t)y * stride;
    size_t plane = (size_t)H * (size_t)W;
    for (int i = 0; i < n; i++) {
        int gy = pad + (i / cols) * (H + pad), gx = pad + (i % cols) * (W + pad);
        const float *img = images + (size_t)i * (size_t)C * plane;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int ch = 0; ch < C; ch++)
                    c.rows[gy + y][(size_t)(gx + x) * (size_t)C + (size_t)ch] =
                        quantise(img[(size_t)ch * plane + (size_t)y * (size_t)W + (size_t)x]);
    }
    int rc = encode_png(&c);
    png_destroy_write_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL);
    free(c.rows);
    free(c.pixels);
    if (rc != 0) {
        tf_sb_free(&c.out);
        tf_die_hint("free memory", "PNG encoding of a %dx%d grid failed: %s", c.width, c.height,
                    c.err.msg[0] ? c.err.msg : "out of memory");
    }
    out->data = (unsigned char *)c.out.s;
    out->size = c.out.len;
    out->width = c.width;
    out->height = c.height;
    out->channels = C;
}

void tf_png_buf_free(TfPngBuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void tf_png_write_grid(const char *path, const float *images, int n, int C, int H, int W, int rows,
                       int cols, int pad) {
    TfPngBuf b;
    tf_png_encode_grid(&b, images, n, C, H, W, rows, cols, pad);
    tf_track_write_atomic(path, b.data, b.size);
    tf_png_buf_free(&b);
}

/* --- decoding ----------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t size, pos;
    PngErr err;
    png_structp png;
    png_infop info;
    unsigned char *pixels;
    png_bytep *rows;
    png_uint_32 width, height;
    int in_channels;
    char why[200]; /* our own validation failure (not from libpng) */
} DecCtx;

static void dec_read(png_structp png, png_bytep out, png_size_t n) {
    DecCtx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) png_error(png, "file is truncated");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

static int decode_png(DecCtx *c) {
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c->err, on_png_error, on_png_warning);
    if (!c->png) return -1;
    c->info = png_create_info_struct(c->png);
    if (!c->info) return -1;
    if (setjmp(png_jmpbuf(c->png))) return -1;
    png_set_read_fn(c->png, c, dec_read);
    png_set_user_limits(c->png, TF_PNG_MAX_SIDE, TF_PNG_MAX_SIDE);
    png_read_info(c->png, c->info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, ctype = 0, interlace = 0;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (depth != 8) {
        snprintf(c->why, sizeof c->why, "bit depth %d is not supported (only 8-bit)", depth);
        return -1;
    }
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: c->in_channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: c->in_channels = 2; break;
    case PNG_COLOR_TYPE_RGB: c->in_channels = 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: c->in_channels = 4; break;
    default:
        snprintf(c->why, sizeof c->why, "colour type %d is not supported (grey, grey+alpha, RGB, RGBA)",
                 ctype);
        return -1;
    }
    if ((unsigned long long)w * h > (unsigned long long)TF_PNG_MAX_PIXELS) {
        snprintf(c->why, sizeof c->why, "%ux%u pixels exceed the %ld-pixel cap", (unsigned)w, (unsigned)h,
                 (long)TF_PNG_MAX_PIXELS);
        return -1;
    }
    if (interlace != PNG_INTERLACE_NONE) png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    if (rowbytes != (size_t)w * (size_t)c->in_channels) {
        snprintf(c->why, sizeof c->why, "unexpected row size %zu", rowbytes);
        return -1;
    }
    /* Fuzzing fix (hardening; tests/fuzz_regressions/png): a 60-byte header could make us
     * allocate up to 256 MiB of rows that no image data backs. Deflate expands at most 1032:1,
     * so `size` bytes cannot decode to more than about size * 1032 bytes of filtered rows
     * (h * (rowbytes + 1) or more): refuse such a file before allocating. */
    if ((unsigned long long)h * (rowbytes + 1) > (unsigned long long)c->size * 1100 + 65536) {
        snprintf(c->why, sizeof c->why, "%zu bytes cannot hold a %ux%u image (truncated?)", c->size, (unsigned)w,
                 (unsigned)h);
        return -1;
    }
    c->width = w;
    c->height = h;
    c->pixels = malloc(rowbytes * h);
    c->rows = malloc(sizeof(png_bytep) * h);
    if (!c->pixels || !c->rows) {
        snprintf(c->why, sizeof c->why, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->pixels + (size_t)y * rowbytes;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL); /* checks the remaining chunks' CRCs through IEND */
    return 0;
}

int tf_png_decode(const unsigned char *data, size_t size, const char *name, TfPngImage *out, char *err,
                  size_t errcap) {
    memset(out, 0, sizeof *out);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(err, errcap, "%s: not a PNG file (bad signature)", name);
        return -1;
    }
    DecCtx c;
    memset(&c, 0, sizeof c);
    c.data = data;
    c.size = size;
    int rc = decode_png(&c);
    png_destroy_read_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL, NULL);
    free(c.rows);
    if (rc != 0) {
        free(c.pixels);
        snprintf(err, errcap, "%s: corrupt or unsupported PNG: %s", name,
                 c.why[0] ? c.why : c.err.msg[0] ? c.err.msg : "out of memory");
        return -1;
    }
    int oc = c.in_channels <= 2 ? 1 : 3;
    size_t plane = (size_t)c.width * c.height;
    out->pixels = malloc(plane * (size_t)oc * sizeof(float));
    if (!out->pixels) {
        free(c.pixels);
        snprintf(err, errcap, "%s: out of memory for %zu pixels", name, plane);
        return -1;
    }
    for (size_t p = 0; p < plane; p++)
        for (int ch = 0; ch < oc; ch++)
            out->pixels[(size_t)ch * plane + p] =
                (float)c.pixels[p * (size_t)c.in_channels + (size_t)ch] / 127.5f - 1.0f;
    free(c.pixels);
    out->channels = oc;
    out->height = (int)c.height;
    out->width = (int)c.width;
    return 0;
}

int tf_png_read(const char *path, TfPngImage *out, char *err, size_t errcap) {
    size_t n = 0;
    memset(out, 0, sizeof *out);
    char *data = tf_track_read_file(path, (size_t)TF_PNG_MAX_FILE, &n, err, errcap);
    if (!data) return -1;
    int rc = tf_png_decode((const unsigned char *)data, n, path, out, err, errcap);
    free(data);
    return rc;
}

void tf_png_load(const char *path, TfPngImage *out) {
    char err[512];
    if (tf_png_read(path, out, err, sizeof err) != 0)
        tf_die_usage("re-create the image, or remove it from the folder", "%s", err);
}

void tf_png_image_free(TfPngImage *img) {
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

int tf_png_byte(const TfPngImage *img, int c, int y, int x) {
    TF_ASSERT(c >= 0 && c < img->channels && y >= 0 && y < img->height && x >= 0 && x < img->width);
    float v = img->pixels[((size_t)c * (size_t)img->height + (size_t)y) * (size_t)img->width + (size_t)x];
    return (int)lrintf((v + 1.0f) * 127.5f);
}
