/* png.h - PNG image grids through libpng: float images [n, C, H, W] with values in [-1, 1]
 * become one grey (C=1) or RGB (C=3) 8-bit PNG of rows x cols cells separated by `pad`
 * black pixels, in memory or written atomically to a file; and a validated PNG reader
 * (8-bit grey, grey+alpha, RGB, RGBA; alpha is dropped) that returns planar floats in [-1, 1]
 * for scoring folders of images.
 * Quantisation: byte = round((v + 1) * 127.5) clamped to [0, 255] (NaN -> 0); reading gives
 * v = byte / 127.5 - 1, so write(read(x)) is exact for values already on that grid.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#ifndef TF_TRACK_PNG_H
#define TF_TRACK_PNG_H

#include <stddef.h>

/* Caps applied to every grid written and every PNG read. */
#define TF_PNG_MAX_SIDE 16384               /* pixels per side */
#define TF_PNG_MAX_PIXELS (64L * 1024 * 1024) /* width * height */
#define TF_PNG_MAX_FILE (256L * 1024 * 1024)  /* bytes of a PNG file read */

typedef struct {
    unsigned char *data; /* PNG file bytes (malloc'd) */
    size_t size;
    int width, height, channels; /* of the grid image; channels 1 (grey) or 3 (RGB) */
} TfPngBuf;

/* Encode images[n*C*H*W] as a rows x cols grid; rows = cols = 0 picks a near-square grid
 * (cols = ceil(sqrt(n))), one of them 0 derives it from the other. Cells past n stay black.
 * Dies (usage) on bad shapes: C not 1 or 3, n > rows*cols, sizes over the caps. */
void tf_png_encode_grid(TfPngBuf *out, const float *images, int n, int C, int H, int W, int rows,
                        int cols, int pad);
void tf_png_buf_free(TfPngBuf *b);

/* The same grid written to path atomically (temp file in the same directory, fsync, rename). */
void tf_png_write_grid(const char *path, const float *images, int n, int C, int H, int W, int rows,
                       int cols, int pad);

/* A decoded image: planar [channels, height, width] floats in [-1, 1]; channels 1 or 3. */
typedef struct {
    float *pixels;
    int channels, height, width;
} TfPngImage;

/* Decode PNG bytes / a PNG file. 0 on success; -1 with "PATH: what is wrong" in err on a
 * corrupt, truncated, unsupported (bit depth != 8, palette) or oversized image. */
int tf_png_decode(const unsigned char *data, size_t size, const char *name, TfPngImage *out, char *err,
                  size_t errcap);
int tf_png_read(const char *path, TfPngImage *out, char *err, size_t errcap);
/* tf_png_read that ends the program (tf_die_usage) with the message and a hint. */
void tf_png_load(const char *path, TfPngImage *out);
void tf_png_image_free(TfPngImage *img);

/* Pixel (c, y, x) of a decoded image back as its 8-bit value. */
int tf_png_byte(const TfPngImage *img, int c, int y, int x);

#endif
