/* readers.h - the file formats behind the datasets: IDX (MNIST, Fashion-MNIST; plain or
 * gzip through zlib) and CIFAR-10 binary batches. Every reader has an error-return form
 * (returns -1 and writes "PATH: what is wrong" into err) and a form that ends the program
 * through tf_die_usage with a hint. Sizes read from a file are checked against caps and
 * for overflow before anything is allocated.
 * This file knows nothing about loaders, configs or models. */
#ifndef TF_DATA_READERS_H
#define TF_DATA_READERS_H

#include <stddef.h>
#include <stdint.h>

/* IDX: magic 00 00 <type> <ndim>, ndim big-endian u32 dims, row-major data. Only type 0x08 (u8). */
typedef struct {
    int ndim;
    uint32_t dims[4];
    uint8_t *data; /* dims[0] * ... * dims[ndim-1] bytes */
    size_t size;
} TfIdx;

int tf_idx_read(const char *path, TfIdx *out, char *err, size_t errcap);
void tf_idx_load(const char *path, TfIdx *out); /* dies on error */
void tf_idx_free(TfIdx *idx);

/* An images file (N x H x W) and its labels file (N), both IDX: checks that the counts
 * agree and every label is below num_classes. Takes ownership into *pixels / *labels. */
int tf_idx_read_pair(const char *images_path, const char *labels_path, int num_classes, int64_t *n,
                     int *h, int *w, uint8_t **pixels, uint8_t **labels, char *err, size_t errcap);

/* CIFAR-10: `records` records of 1 label byte (0..9) + 3072 pixel bytes (R, G, B planes of
 * 32x32); the file must be exactly records * 3073 bytes. Writes into pixels[records*3072]
 * and labels[records]. */
#define TF_CIFAR_RECORD 3073
#define TF_CIFAR_RECORDS_PER_FILE 10000
int tf_cifar_read_batch(const char *path, int64_t records, uint8_t *pixels, uint8_t *labels, char *err,
                        size_t errcap);
void tf_cifar_load_batch(const char *path, int64_t records, uint8_t *pixels, uint8_t *labels); /* dies */

/* out = dir + "/" + name + suffix; ends the program when it does not fit in cap. */
void tf_path_join(char *out, size_t cap, const char *dir, const char *name, const char *suffix);

/* "path" or "path.gz", whichever exists (plain first); 0 when found, -1 with err otherwise. */
int tf_data_find_file(const char *dir, const char *base, char *out, size_t cap, char *err, size_t errcap);

#endif
