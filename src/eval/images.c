/* images.c - load sample sets from an .npy file or a folder of PNGs (see images.h).
 * Must not know about models, metrics or MPI. */
#include "eval/images.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "eval/npy.h"
#include "track/png.h"

#define MAX_FILES 10000000

static int from_npy(const char *path, TfImageSet *s, char *err, size_t cap) {
    TfNpy a;
    if (tf_npy_read(path, &a, err, cap)) return -1;
    int rc = 0;
    int is_f32 = !strcmp(a.descr, "<f4"), is_u8 = !strcmp(a.descr, "|u1");
    if ((!is_f32 && !is_u8) || a.ndim < 3 || a.ndim > 4) {
        snprintf(err, cap, "%s: expected float32 [N, C, H, W] in [-1, 1] or uint8 [N, H, W, C] (also [N, H, W]); "
                           "got dtype %s with %d dimensions", path, a.descr, a.ndim);
        rc = -1;
    } else if (a.shape[0] < 1 || a.shape[1] < 1 || a.shape[2] < 1 || (a.ndim == 4 && a.shape[3] < 1)) {
        snprintf(err, cap, "%s: an empty image set", path);
        rc = -1;
    } else if (is_f32) {
        s->n = a.shape[0];
        s->c = a.ndim == 4 ? (int)a.shape[1] : 1;
        s->h = (int)a.shape[a.ndim - 2];
        s->w = (int)a.shape[a.ndim - 1];
        s->x = a.data;
        a.data = NULL;
        const float *x = s->x;
        for (size_t i = 0; i < a.numel; i++)
            if (!(x[i] >= -1.5f && x[i] <= 1.5f)) {
                snprintf(err, cap, "%s: value %g at element %zu is far outside [-1, 1] (float samples must be "
                                   "scaled to [-1, 1]; save 0..255 images as uint8)", path, (double)x[i], i);
                rc = -1;
                break;
            }
    } else {
        const int nhwc = a.ndim == 4;
        s->n = a.shape[0];
        s->h = (int)a.shape[1];
        s->w = (int)a.shape[2];
        s->c = nhwc ? (int)a.shape[3] : 1;
        s->x = tf_malloc(sizeof(float) * a.numel);
        const uint8_t *p = a.data;
        const size_t hw = (size_t)s->h * s->w;
        for (int64_t i = 0; i < s->n; i++)
            for (int c = 0; c < s->c; c++)
                for (size_t k = 0; k < hw; k++)
                    s->x[((size_t)i * s->c + c) * hw + k] = (float)p[((size_t)i * hw + k) * s->c + c] / 127.5f - 1.0f;
    }
    if (!rc && s->c != 1 && s->c != 3) {
        snprintf(err, cap, "%s: %d channels (1 or 3 expected; is the layout right? float32 is [N, C, H, W], "
                           "uint8 is [N, H, W, C])", path, s->c);
        rc = -1;
    }
    tf_npy_free(&a);
    if (rc) tf_images_free(s);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int from_folder(const char *path, TfImageSet *s, char *err, size_t cap) {
    DIR *d = opendir(path);
    if (!d) { snprintf(err, cap, "%s: cannot open the folder: %s", path, strerror(errno)); return -1; }
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L < 5 || strcmp(e->d_name + L - 4, ".png") || e->d_name[0] == '.') continue;
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 256;
            if (ncap > MAX_FILES) { closedir(d); snprintf(err, cap, "%s: over %d PNG files", path, MAX_FILES); goto fail; }
            char **nn = realloc(names, ncap * sizeof *names);
            if (!nn) tf_die("out of memory listing %s", path);
            names = nn;
        }
        names[n] = tf_malloc(L + 1);
        memcpy(names[n++], e->d_name, L + 1);
    }
    closedir(d);
    if (!n) { snprintf(err, cap, "%s: no .png files in the folder", path); goto fail; }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char full[8192], lerr[1024];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        TfPngImage img;
        if (tf_png_read(full, &img, lerr, sizeof lerr)) { snprintf(err, cap, "%s", lerr); goto fail; }
        if (i == 0) {
            s->n = (int64_t)n, s->c = img.channels, s->h = img.height, s->w = img.width;
            s->x = tf_malloc(sizeof(float) * tf_mul_size(n, (size_t)s->c * s->h * s->w, "PNG folder"));
        } else if (img.channels != s->c || img.height != s->h || img.width != s->w) {
            snprintf(err, cap, "%s: %dx%dx%d, but %s is %dx%dx%d (all images must have one size and channel count)",
                     full, img.channels, img.height, img.width, names[0], s->c, s->h, s->w);
            tf_png_image_free(&img);
            goto fail;
        }
        const size_t per = (size_t)s->c * s->h * s->w;
        memcpy(s->x + i * per, img.pixels, sizeof(float) * per);
        tf_png_image_free(&img);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return 0;
fail:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    tf_images_free(s);
    return -1;
}

int tf_images_load(const char *path, TfImageSet *s, char *err, size_t cap) {
    memset(s, 0, sizeof *s);
    struct stat st;
    if (stat(path, &st)) { snprintf(err, cap, "%s: %s", path, strerror(errno)); return -1; }
    return S_ISDIR(st.st_mode) ? from_folder(path, s, err, cap) : from_npy(path, s, err, cap);
}

void tf_images_free(TfImageSet *s) {
    free(s->x);
    memset(s, 0, sizeof *s);
}

int tf_labels_load(const char *path, int64_t n, int **labels, char *err, size_t cap) {
    TfNpy a;
    *labels = NULL;
    if (tf_npy_read(path, &a, err, cap)) return -1;
    int rc = 0;
    if (a.ndim != 1 || a.shape[0] != n || (strcmp(a.descr, "<i4") && strcmp(a.descr, "<i8") && strcmp(a.descr, "|u1"))) {
        snprintf(err, cap, "%s: expected int32/int64/uint8 labels of shape [%lld]", path, (long long)n);
        rc = -1;
    } else {
        *labels = tf_malloc(sizeof(int) * (size_t)(n ? n : 1));
        for (int64_t i = 0; i < n; i++)
            (*labels)[i] = !strcmp(a.descr, "<i4") ? ((int32_t *)a.data)[i]
                         : !strcmp(a.descr, "<i8") ? (int)((int64_t *)a.data)[i] : ((uint8_t *)a.data)[i];
    }
    tf_npy_free(&a);
    return rc;
}

void tf_images_grey_to_rgb(TfImageSet *s) {
    if (s->c != 1) return;
    const size_t hw = (size_t)s->h * s->w;
    float *x = tf_malloc(sizeof(float) * tf_mul_size((size_t)s->n, 3 * hw, "grey to RGB"));
    for (int64_t i = 0; i < s->n; i++)
        for (int c = 0; c < 3; c++) memcpy(x + ((size_t)i * 3 + c) * hw, s->x + (size_t)i * hw, sizeof(float) * hw);
    free(s->x);
    s->x = x;
    s->c = 3;
}
