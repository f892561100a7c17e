/* images.h - image sets from other tools, to be scored like generated samples:
 *   - a RAW SAMPLE FILE: .npy float32 [N, C, H, W] (or [N, H, W] for grey) with values in
 *     [-1, 1] (tinyflow's own sample layout), or uint8 [N, H, W, C] / [N, H, W] with 0..255
 *     (what most tools save; converted with k / 127.5 - 1);
 *   - a FOLDER OF PNGs: every *.png in it (not recursive), in name order, 8-bit grey, grey+alpha,
 *     RGB or RGBA (alpha dropped), all of one size.
 * Optional labels come from an int32/int64 .npy [N] next to the samples (the caller names it).
 * Must not know about models, metrics or MPI.
 */
#ifndef TF_EVAL_IMAGES_H
#define TF_EVAL_IMAGES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t n;
    int c, h, w;
    float *x;    /* [n][c][h][w] in [-1, 1] */
} TfImageSet;

/* path: an .npy file or a folder of PNGs. 0, or -1 with "PATH: what is wrong" in err. */
int tf_images_load(const char *path, TfImageSet *out, char *err, size_t cap);
void tf_images_free(TfImageSet *s);

/* Labels [n] from an .npy of int32/int64/uint8 with exactly n entries. */
int tf_labels_load(const char *path, int64_t n, int **labels, char *err, size_t cap);

/* Grey images as RGB (each plane copied) so a 3-channel classifier can score them; in place. */
void tf_images_grey_to_rgb(TfImageSet *s);

#endif
