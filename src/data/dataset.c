/* dataset.c - open a dataset by name: IDX pairs, CIFAR-10 batches or a generated toy set.
 * Knows nothing about configs, loaders, models or MPI. */
#include "data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/readers.h"
#include "data/toy.h"

static const struct {
    const char *name;
    int c, h, w, classes;
} k_kinds[TF_DATA_COUNT] = {
    [TF_DATA_MNIST] = {"mnist", 1, 28, 28, 10},
    [TF_DATA_FASHION_MNIST] = {"fashion_mnist", 1, 28, 28, 10},
    [TF_DATA_CIFAR10] = {"cifar10", 3, 32, 32, 10},
    [TF_DATA_MOONS] = {"moons", 2, 1, 1, 2},
    [TF_DATA_8GAUSSIANS] = {"8gaussians", 2, 1, 1, 8},
    [TF_DATA_CHECKERBOARD] = {"checkerboard", 2, 1, 1, 1},
    [TF_DATA_CIRCLES] = {"circles", 2, 1, 1, 2},
};

int tf_data_kind(const char *name) {
    for (int k = 0; k < TF_DATA_COUNT; k++)
        if (!strcmp(name, k_kinds[k].name)) return k;
    return -1;
}

const char *tf_data_name(TfDataKind kind) { return (unsigned)kind < TF_DATA_COUNT ? k_kinds[kind].name : "?"; }

int tf_data_is_toy(TfDataKind kind) { return kind >= TF_DATA_MOONS && kind < TF_DATA_COUNT; }

void tf_data_shape(TfDataKind kind, int *c, int *h, int *w, int *num_classes) {
    TF_ASSERT((unsigned)kind < TF_DATA_COUNT);
    if (c) *c = k_kinds[kind].c;
    if (h) *h = k_kinds[kind].h;
    if (w) *w = k_kinds[kind].w;
    if (num_classes) *num_classes = k_kinds[kind].classes;
}

const char *tf_data_class_name(TfDataKind kind, int label) {
    static const char *digits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    static const char *fashion[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    static const char *cifar[] = {"airplane", "automobile", "bird", "cat", "deer",
                                  "dog", "frog", "horse", "ship", "truck"};
    static const char *two[] = {"outer", "inner"}, *moons[] = {"upper", "lower"};
    if (label < 0 || label >= 10) return "?";
    switch (kind) {
    case TF_DATA_FASHION_MNIST: return fashion[label];
    case TF_DATA_CIFAR10: return cifar[label];
    case TF_DATA_MOONS: return label < 2 ? moons[label] : "?";
    case TF_DATA_CIRCLES: return label < 2 ? two[label] : "?";
    case TF_DATA_CHECKERBOARD: return label == 0 ? "board" : "?";
    default: return digits[label];
    }
}

static int open_idx(TfDataset *ds, const char *dir, int test, char *err, size_t cap) {
    char im[4096], lb[4096];
    const char *pre = test ? "t10k" : "train";
    char base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", pre);
    if (tf_data_find_file(dir, base, im, sizeof im, err, cap)) return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", pre);
    if (tf_data_find_file(dir, base, lb, sizeof lb, err, cap)) return -1;
    int h, w;
    if (tf_idx_read_pair(im, lb, ds->num_classes, &ds->n, &h, &w, &ds->pixels, &ds->labels, err, cap)) return -1;
    if (h != ds->h || w != ds->w) {
        snprintf(err, cap, "'%s': images are %dx%d, %s images are %dx%d", im, h, w, ds->name, ds->h, ds->w);
        return -1;
    }
    return 0;
}

static int open_cifar(TfDataset *ds, const char *dir, int test, char *err, size_t cap) {
    int files = test ? 1 : 5;
    int64_t per = TF_CIFAR_RECORDS_PER_FILE;
    ds->n = per * files;
    ds->pixels = malloc((size_t)ds->n * 3072);
    ds->labels = malloc((size_t)ds->n);
    if (!ds->pixels || !ds->labels) { snprintf(err, cap, "out of memory for CIFAR-10"); return -1; }
    for (int f = 0; f < files; f++) {
        char path[4096];
        char base[32];
        snprintf(base, sizeof base, "data_batch_%d.bin", f + 1);
        tf_path_join(path, sizeof path, dir, test ? "test_batch.bin" : base, NULL);
        if (tf_cifar_read_batch(path, per, ds->pixels + (size_t)f * per * 3072, ds->labels + (size_t)f * per, err, cap))
            return -1;
    }
    return 0;
}

TfDataset *tf_dataset_try_open(const char *name, const char *root, const char *split, int64_t n_samples,
                               uint64_t seed, char *err, size_t cap) {
    int kind = tf_data_kind(name);
    if (kind < 0) {
        snprintf(err, cap, "unknown dataset '%s' (known: mnist, fashion_mnist, cifar10, moons, 8gaussians, "
                           "checkerboard, circles)", name);
        return NULL;
    }
    int test = !strcmp(split, "test");
    if (!test && strcmp(split, "train")) {
        snprintf(err, cap, "unknown split '%s' of dataset '%s' (train or test)", split, name);
        return NULL;
    }
    TfDataset *ds = tf_calloc(1, sizeof *ds);
    ds->kind = (TfDataKind)kind;
    snprintf(ds->name, sizeof ds->name, "%s", name);
    tf_data_shape(ds->kind, &ds->c, &ds->h, &ds->w, &ds->num_classes);
    int rc = 0;
    if (tf_data_is_toy(ds->kind)) {
        if (n_samples < 1 || n_samples > TF_DATA_MAX_EXAMPLES) {
            snprintf(err, cap, "toy dataset '%s': n_samples = %lld is outside 1..%d", name, (long long)n_samples,
                     TF_DATA_MAX_EXAMPLES);
            rc = -1;
        } else {
            ds->n = n_samples;
            ds->values = tf_malloc((size_t)n_samples * 2 * sizeof(float));
            ds->labels = tf_malloc((size_t)n_samples);
            for (int64_t i = 0; i < n_samples; i++) {
                int lab;
                tf_toy_point(ds->kind, seed, test, (uint64_t)i, ds->values + 2 * i, &lab);
                ds->labels[i] = (uint8_t)lab;
            }
        }
    } else {
        char dir[4096];
        tf_path_join(dir, sizeof dir, root && root[0] ? root : "data", name, NULL);
        rc = ds->kind == TF_DATA_CIFAR10 ? open_cifar(ds, dir, test, err, cap) : open_idx(ds, dir, test, err, cap);
    }
    if (rc) { tf_dataset_free(ds); return NULL; }
    return ds;
}

TfDataset *tf_dataset_open(const char *name, const char *root, const char *split, int64_t n_samples, uint64_t seed) {
    char err[2048], hint[512];
    TfDataset *ds = tf_dataset_try_open(name, root, split, n_samples, seed, err, sizeof err);
    if (ds) return ds;
    if (tf_data_kind(name) == TF_DATA_CIFAR10)
        snprintf(hint, sizeof hint, "get cifar-10-binary.tar.gz and run `tinyflow data fetch cifar10 --from "
                                    "PATH --root %s`", root && root[0] ? root : "data");
    else if (tf_data_kind(name) >= 0 && !tf_data_is_toy((TfDataKind)tf_data_kind(name)))
        snprintf(hint, sizeof hint, "run `tinyflow data fetch %s --root %s`", name, root && root[0] ? root : "data");
    else
        snprintf(hint, sizeof hint, "check dataset.name / dataset.split / dataset.n_samples");
    tf_die_usage(hint, "%s", err);
}

void tf_dataset_free(TfDataset *ds) {
    if (!ds) return;
    free(ds->pixels);
    free(ds->values);
    free(ds->labels);
    free(ds);
}

void tf_dataset_histogram(const TfDataset *ds, int64_t *hist) {
    for (int k = 0; k < ds->num_classes; k++) hist[k] = 0;
    for (int64_t i = 0; i < ds->n; i++)
        if (ds->labels[i] < ds->num_classes) hist[ds->labels[i]]++;
}
