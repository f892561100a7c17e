/* dataset.h - an in-memory dataset: MNIST / Fashion-MNIST (IDX), CIFAR-10 (binary batches)
 * or a 2-D toy set, with its labels. Images stay uint8 NCHW until the loader maps them to
 * [-1, 1]; toy points are float (C = 2, H = W = 1).
 * On disk: ROOT/mnist/, ROOT/fashion_mnist/ (the four IDX files, plain or .gz) and
 * ROOT/cifar10/ (data_batch_1..5.bin, test_batch.bin); `tinyflow data fetch NAME` puts them there.
 * This module knows nothing about configs, models or MPI. */
#ifndef TF_DATA_DATASET_H
#define TF_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TF_DATA_MNIST,
    TF_DATA_FASHION_MNIST,
    TF_DATA_CIFAR10,
    TF_DATA_MOONS,
    TF_DATA_8GAUSSIANS,
    TF_DATA_CHECKERBOARD,
    TF_DATA_CIRCLES,
    TF_DATA_COUNT
} TfDataKind;

/* Hard caps on what a file may declare (checked before any allocation). */
#define TF_DATA_MAX_EXAMPLES 10000000
#define TF_DATA_MAX_DIM 4096
#define TF_DATA_MAX_BYTES ((size_t)1 << 32)

typedef struct {
    TfDataKind kind;
    char name[32];
    int64_t n;        /* examples */
    int c, h, w;      /* shape of one example (NCHW) */
    int num_classes;
    uint8_t *pixels;  /* images: n * c*h*w bytes, or NULL */
    float *values;    /* toy sets: n * c*h*w floats, or NULL */
    uint8_t *labels;  /* n labels in [0, num_classes) */
} TfDataset;

/* Name ("mnist", "8gaussians", ...) -> kind; -1 when unknown. And the reverse. */
int tf_data_kind(const char *name);
const char *tf_data_name(TfDataKind kind);
int tf_data_is_toy(TfDataKind kind);
/* Shape and classes of a kind without opening anything. */
void tf_data_shape(TfDataKind kind, int *c, int *h, int *w, int *num_classes);
/* Class names for printing ("0".."9", "T-shirt/top", "airplane", ...). */
const char *tf_data_class_name(TfDataKind kind, int label);

/* Open a dataset (split "train" or "test"). Toy sets generate n_samples points from seed
 * (the test split uses a different key); images read ROOT/NAME/. Ends the program with a
 * message naming the file and the problem (exit 2 for bad or missing data). */
TfDataset *tf_dataset_open(const char *name, const char *root, const char *split, int64_t n_samples,
                           uint64_t seed);
/* The same, returning NULL and filling err instead of ending the program. */
TfDataset *tf_dataset_try_open(const char *name, const char *root, const char *split, int64_t n_samples,
                               uint64_t seed, char *err, size_t errcap);
void tf_dataset_free(TfDataset *ds);

/* hist[0..num_classes) = count of each label. */
void tf_dataset_histogram(const TfDataset *ds, int64_t *hist);

#endif
