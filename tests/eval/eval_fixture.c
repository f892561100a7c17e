/* eval_fixture.c - writes the fixtures of the evaluation CLI test (test_eval_cli.sh):
 *   eval_fixture idx ROOT NTRAIN NTEST       ROOT/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
 *   eval_fixture cifar ROOT                  ROOT/cifar10/data_batch_1..5.bin, test_batch.bin (full size)
 *   eval_fixture npy PATH N C S SEED NOISE   float32 [N, C, S, S] in [-1, 1] (+ PATH.labels.npy int32)
 *   eval_fixture png DIR N C S SEED          DIR/img_00000.png ... (one image per file)
 *   eval_fixture unet DIR                    DIR/step_00000001.ckpt: a tiny class-conditional UNet
 *                                             (28x28 grey, random init; param/ and ema/ groups)
 *   eval_fixture mlp DIR                     DIR/step_00000001.ckpt: a toy MLP for moons
 * Images are the synthetic strokes of eval_synth.h (seed 1 for the dataset files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt/ckpt.h"
#include "eval/eval_synth.h"
#include "eval/npy.h"
#include "eval/run_model.h"
#include "model/model.h"
#include "track/png.h"

static void put_be32(unsigned char *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16 & 255, p[2] = v >> 8 & 255, p[3] = v & 255; }

static void write_file(const char *path, const void *a, size_t na, const void *b, size_t nb) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f)) {
        fprintf(stderr, "eval_fixture: cannot write %s\n", path);
        exit(1);
    }
}

static void idx(const char *root, int ntrain, int ntest) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    mkdir(root, 0755);
    mkdir(dir, 0755);
    for (int t = 0; t < 2; t++) {
        int n = t ? ntest : ntrain;
        TfDataset *ds = synth_dataset("mnist", n, 1, 28, 1, t ? 1000000 : 0, 10);
        unsigned char h[16] = {0, 0, 8, 3}, hl[8] = {0, 0, 8, 1};
        put_be32(h + 4, (uint32_t)n), put_be32(h + 8, 28), put_be32(h + 12, 28), put_be32(hl + 4, (uint32_t)n);
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, t ? "t10k" : "train");
        write_file(p, h, 16, ds->pixels, (size_t)n * 784);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, t ? "t10k" : "train");
        write_file(p, hl, 8, ds->labels, (size_t)n);
        tf_dataset_free(ds);
    }
}

static void cifar(const char *root) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/cifar10", root);
    mkdir(root, 0755);
    mkdir(dir, 0755);
    unsigned char *rec = malloc((size_t)10000 * 3073);
    for (int f = 0; f < 6; f++) {
        TfDataset *ds = synth_dataset("cifar10", 10000, 3, 32, 1, (uint64_t)f * 10000, 10);
        for (int i = 0; i < 10000; i++) {
            rec[(size_t)i * 3073] = ds->labels[i];
            memcpy(rec + (size_t)i * 3073 + 1, ds->pixels + (size_t)i * 3072, 3072);
        }
        if (f < 5) snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, f + 1);
        else snprintf(p, sizeof p, "%s/test_batch.bin", dir);
        write_file(p, rec, (size_t)10000 * 3073, NULL, 0);
        tf_dataset_free(ds);
    }
    free(rec);
}

static void images(const char *what, const char *path, int n, int C, int S, uint64_t seed, float noise) {
    TfDataset *ds = synth_dataset("x", n, C, S, seed, 5000000, 10);
    float *x = synth_floats(ds);
    if (noise > 0) synth_add_noise(x, (size_t)n * C * S * S, noise, seed);
    char err[1024], p[4200];
    if (!strcmp(what, "npy")) {
        int64_t shape[4] = {n, C, S, S}, ls[1] = {n};
        int32_t *lab = malloc(sizeof(int32_t) * (size_t)n);
        for (int i = 0; i < n; i++) lab[i] = ds->labels[i];
        snprintf(p, sizeof p, "%s.labels.npy", path);
        if (tf_npy_write(path, "<f4", 4, shape, x, err, sizeof err) || tf_npy_write(p, "<i4", 1, ls, lab, err, sizeof err)) {
            fprintf(stderr, "eval_fixture: %s\n", err);
            exit(1);
        }
        free(lab);
    } else {
        mkdir(path, 0755);
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/img_%05d.png", path, i);
            tf_png_write_grid(p, x + (size_t)i * C * S * S, 1, C, S, S, 1, 1, 0);
        }
    }
    free(x);
    tf_dataset_free(ds);
}

static void flow_ckpt(const char *dir, int unet) {
    const char *text = unet ?
        "model:\n  name: unet\n  in_ch: ${dataset.channels}\n  image_size: ${dataset.image_size}\n  base_ch: 8\n"
        "  ch_mult: [1, 2]\n  num_res_blocks: 1\n  attn_res: []\n  groups: 4\n  heads: 1\n  dropout: 0.0\n"
        "  num_classes: 10\n  zero_init: false\n  temb_dim: 32\ndataset:\n  name: mnist\n  channels: 1\n"
        "  image_size: 28\npath:\n  scheduler: condot\n  sigma_min: 0.0\n" :
        "model:\n  name: mlp\n  in_ch: 2\n  image_size: 1\n  hidden: 32\n  layers: 2\n  temb_dim: 16\n"
        "  dropout: 0.0\n  num_classes: 0\n  zero_init: false\ndataset:\n  name: moons\npath:\n  scheduler: condot\n";
    TfRunModel rm;
    char err[4096], path[4200];
    if (tf_run_model_from_text(text, &rm, err, sizeof err)) { fprintf(stderr, "eval_fixture: %s\n", err); exit(1); }
    TfTape tp;
    tf_model_build(&tp, &rm.model, tf_backend_cpu(), 1, TF_BUILD_INFERENCE, 3, NULL);
    int n;
    TfCkptTensor *p = tf_run_tensors(&tp, "param", &n), *e = tf_run_tensors(&tp, "ema", &n);
    TfCkptTensor *all = malloc(sizeof *all * 2 * (size_t)n);
    memcpy(all, p, sizeof *all * (size_t)n);
    memcpy(all + n, e, sizeof *all * (size_t)n);
    TfCkptMeta meta;
    memset(&meta, 0, sizeof meta);
    meta.arch = unet ? "unet" : "mlp";
    meta.config_text = text;
    meta.step = 1;
    mkdir(dir, 0755);
    if (tf_ckpt_save(dir, &meta, all, 2 * n, path, sizeof path, err, sizeof err)) {
        fprintf(stderr, "eval_fixture: %s\n", err);
        exit(1);
    }
    printf("%s\n", path);
    free(all);
    tf_run_tensors_free(p, n);
    tf_run_tensors_free(e, n);
    tf_tape_free(&tp);
}

int main(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "idx")) idx(argv[2], atoi(argv[3]), atoi(argv[4]));
    else if (argc >= 3 && !strcmp(argv[1], "cifar")) cifar(argv[2]);
    else if (argc >= 8 && !strcmp(argv[1], "npy"))
        images("npy", argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), strtoull(argv[6], NULL, 10), (float)atof(argv[7]));
    else if (argc >= 7 && !strcmp(argv[1], "png"))
        images("png", argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), strtoull(argv[6], NULL, 10), 0);
    else if (argc >= 3 && (!strcmp(argv[1], "unet") || !strcmp(argv[1], "mlp"))) flow_ckpt(argv[2], argv[1][0] == 'u');
    else {
        fprintf(stderr, "usage: see the comment at the top of eval_fixture.c\n");
        return 2;
    }
    return 0;
}
