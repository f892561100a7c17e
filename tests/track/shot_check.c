/* shot_check.c - checks a browser screenshot (PNG) for colours, with tinyflow's own PNG reader:
 *   shot_check SHOT.png WIDTH HEIGHT [+RRGGBB:MIN | -RRGGBB]...
 * "+RRGGBB:MIN" needs at least MIN pixels within +-3 per channel of the colour, "-RRGGBB" needs
 * none. Exit 0 when every condition holds, 1 otherwise (each count is printed).
 * Knows nothing about what drew the page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track/png.h"

static long count_colour(const TfPngImage *im, int r, int g, int b) {
    long n = 0;
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            int pr = tf_png_byte(im, 0, y, x), pg = tf_png_byte(im, 1, y, x), pb = tf_png_byte(im, 2, y, x);
            if (abs(pr - r) <= 3 && abs(pg - g) <= 3 && abs(pb - b) <= 3) n++;
        }
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s SHOT.png WIDTH HEIGHT [+RRGGBB:MIN | -RRGGBB]...\n", argv[0]);
        return 2;
    }
    TfPngImage im;
    char err[512];
    if (tf_png_read(argv[1], &im, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int ok = 1;
    if (im.width != atoi(argv[2]) || im.height != atoi(argv[3]) || im.channels != 3) {
        fprintf(stderr, "%s: %dx%d with %d channels, expected %sx%s RGB\n", argv[1], im.width, im.height, im.channels,
                argv[2], argv[3]);
        ok = 0;
    }
    for (int i = 4; ok && i < argc; i++) {
        unsigned rgb = 0;
        long min = 0;
        char sign = argv[i][0];
        if ((sign != '+' && sign != '-') || sscanf(argv[i] + 1, "%6x", &rgb) != 1 ||
            (sign == '+' && sscanf(argv[i] + 7, ":%ld", &min) != 1)) {
            fprintf(stderr, "bad condition '%s'\n", argv[i]);
            return 2;
        }
        long n = count_colour(&im, (int)(rgb >> 16), (int)((rgb >> 8) & 255), (int)(rgb & 255));
        int pass = sign == '+' ? n >= min : n == 0;
        printf("%s: #%06x: %ld pixels (%s %ld): %s\n", argv[1], rgb, n, sign == '+' ? "need >=" : "need", sign == '+' ? min : 0L,
               pass ? "ok" : "FAIL");
        ok &= pass;
    }
    tf_png_image_free(&im);
    return ok ? 0 : 1;
}
