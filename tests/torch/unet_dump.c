/* unet_dump.c - `torch_unet_dump DIR CONFIG [BATCH]`: builds the reference UNet
 * (mnist or cifar config, conditional) in tinyflow with perturbed, keyed-random
 * parameters, runs forward and backward of L = sum(out * cot) and writes every
 * parameter, input, the output and every gradient (parameters and input) as .npy
 * files for tests/torch/check_parity.py to compare with PyTorch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "model/model.h"
#include "npy.h"

static void put(const char *dir, const char *prefix, const char *name, const float *d, int ndim,
                const int *shape) {
    char path[1024];
    long sh[4];
    for (int i = 0; i < ndim; i++) sh[i] = shape[i];
    snprintf(path, sizeof path, "%s/%s%s.npy", dir, prefix, name);
    if (npy_write_f32(path, d, ndim, sh)) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: torch_unet_dump DIR mnist|cifar [BATCH]\n"); return 2; }
    const char *dir = argv[1];
    TfModelConfig c = tf_model_config_named(argv[2]);
    int B = argc > 3 ? atoi(argv[3]) : 4;
    if (mkdir(dir, 0755) && errno != EEXIST) { perror(dir); return 1; }
    TfTape tp;
    tf_model_build(&tp, &c, tf_backend_cpu(), B, 1, 1234, NULL);
    /* Perturb every parameter so GroupNorm's ones/zeros and zero biases are exercised too. */
    for (int p = 0; p < tp.n_params; p++) {
        TfRng r = tf_rng(99, TF_STREAM_USER, 0, (uint64_t)p);
        float *d = tp.param + tp.params[p].offset;
        for (size_t i = 0; i < tp.params[p].numel; i++) d[i] += 0.05f * tf_rng_normal(&r, i);
    }
    const int S = c.image_size;
    size_t nin = (size_t)B * c.in_ch * S * S;
    TfRng rx = tf_rng(5, TF_STREAM_USER, 1, 0), rc = tf_rng(5, TF_STREAM_USER, 2, 0), rt = tf_rng(5, TF_STREAM_USER, 3, 0);
    float *x = tf_tape_data(&tp, tp.input);
    tf_rng_fill_normal(&rx, 0, x, nin);
    float *cot = malloc(sizeof(float) * nin);
    tf_rng_fill_normal(&rc, 0, cot, nin);
    int32_t *y = malloc(sizeof(int32_t) * B);
    for (int b = 0; b < B; b++) {
        tp.time[b] = tf_rng_uniform(&rt, (uint64_t)b);
        y[b] = b == B - 1 ? c.num_classes : (int32_t)tf_rng_below(&rt, 100 + (uint64_t)b, (uint32_t)c.num_classes);
        tp.labels[b] = y[b];
    }
    tf_tape_zero_grad(&tp);
    tf_tape_forward(&tp);
    memcpy(tf_tape_grad(&tp, tp.output), cot, sizeof(float) * nin);
    tf_tape_backward(&tp);

    for (int p = 0; p < tp.n_params; p++) {
        put(dir, "param.", tp.params[p].name, tp.param + tp.params[p].offset, tp.params[p].ndim, tp.params[p].shape);
        put(dir, "grad.", tp.params[p].name, tp.grad + tp.params[p].offset, tp.params[p].ndim, tp.params[p].shape);
    }
    int xs[4] = {B, c.in_ch, S, S}, bs[1] = {B};
    put(dir, "input.", "x", x, 4, xs);
    put(dir, "input.", "cot", cot, 4, xs);
    put(dir, "input.", "t", tp.time, 1, bs);
    put(dir, "output.", "out", tf_tape_data(&tp, tp.output), 4, xs);
    put(dir, "grad.", "input.x", tf_tape_grad(&tp, tp.input), 4, xs);
    char path[1024];
    long lb[1] = {B};
    snprintf(path, sizeof path, "%s/input.y.npy", dir);
    if (npy_write_i32(path, y, 1, lb)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    snprintf(path, sizeof path, "%s/meta.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 1; }
    fprintf(f, "{\"config\": \"%s\", \"batch\": %d, \"in_ch\": %d, \"image_size\": %d, \"C\": %d, \"ch_mult\": [",
            argv[2], B, c.in_ch, S, c.base_ch);
    for (int i = 0; i < c.n_mult; i++) fprintf(f, "%s%d", i ? ", " : "", c.ch_mult[i]);
    fprintf(f, "], \"num_res_blocks\": %d, \"attn_res\": [", c.num_res_blocks);
    for (int i = 0; i < c.n_attn; i++) fprintf(f, "%s%d", i ? ", " : "", c.attn_res[i]);
    fprintf(f, "], \"groups\": %d, \"num_classes\": %d, \"heads\": %d}\n", c.groups, c.num_classes, c.heads);
    if (fclose(f)) { perror(path); return 1; }
    printf("wrote %d parameters of %s (batch %d) to %s\n", tp.n_params, argv[2], B, dir);
    free(cot); free(y);
    tf_tape_free(&tp);
    return 0;
}
