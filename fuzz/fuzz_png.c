/* fuzz_png.c - libFuzzer target: a PNG file through tf_png_read() (bounded file read, then
 * tf_png_decode on libpng with our caps: 8-bit grey/grey+alpha/RGB/RGBA only, side and pixel
 * caps, every chunk CRC through IEND) - the image-folder input of `tinyflow fid`. A decoded
 * image is read back pixel by pixel at its corners. Seeds: grids written by
 * tf_png_encode_grid (grey and RGB) and hand-made colour types (fuzz/make_corpus.sh). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "track/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    const char *path = tf_fuzz_file(0, data, size);
    TfPngImage img;
    char err[512] = "";
    if (tf_png_read(path, &img, err, sizeof err) != 0) {
        if (img.pixels || !err[0]) abort();
        return 0;
    }
    if ((img.channels != 1 && img.channels != 3) || img.width < 1 || img.height < 1 || !img.pixels) abort();
    for (int c = 0; c < img.channels; c++) {
        int v = tf_png_byte(&img, c, 0, 0) + tf_png_byte(&img, c, img.height - 1, img.width - 1);
        if (v < 0 || v > 510) abort(); /* every value is on the 8-bit grid */
    }
    tf_png_image_free(&img);
    return 0;
}
