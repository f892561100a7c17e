/* bench_step.c - times tinyflow's flow-matching training step (forward, MSE,
 * backward, Adam) or sampling step (forward only) for a named UNet and prints
 * ONE JSON line (see bench/README.md). Usage:
 *   bench_step --config mnist|cifar --mode train|sample --batch N [--iters K] [--warmup W] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/backend.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "core/rng.h"
#include "model/model.h"
#include "ops/gemm.h"
#include "ops/ops.h"
#include "optim/optim.h"

/* An MNIST-shaped IDX training set (n random images) under ROOT/mnist, for timing the loader
 * when the real data is not there. Returns ROOT. */
static const char *write_fixture(int n) {
    static char root[] = "/tmp/tf_bench_XXXXXX";
    if (!mkdtemp(root)) { perror("mkdtemp"); exit(1); }
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    if (mkdir(dir, 0755)) { perror(dir); exit(1); }
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    unsigned char hdr[16] = {0, 0, 8, 3, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n, 0, 0, 0, 28, 0, 0, 0, 28};
    fwrite(hdr, 1, 16, f);
    for (long i = 0; i < (long)n * 784; i++) fputc((int)((i * 2654435761u) >> 24), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    f = fopen(path, "wb");
    unsigned char lh[8] = {0, 0, 8, 1, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    fwrite(lh, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 10, f);
    fclose(f);
    return root;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    const char *config = "mnist", *mode = "train";
    int batch = 0, iters = 0, warmup = 1, use_loader = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--config")) config = argv[i + 1];
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--loader")) use_loader = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    int train = !strcmp(mode, "train");
    int cifar = !strcmp(config, "cifar");
    if (!batch) batch = train ? (cifar ? 32 : 128) : (cifar ? 64 : 256);
    if (!iters) iters = train ? (cifar ? 4 : 4) : 4;
    TfModelConfig c = tf_model_config_named(config);
    TfTape tp;
    tf_model_build(&tp, &c, tf_backend_cpu(), batch, train ? TF_BUILD_TRAIN : TF_BUILD_INFERENCE, 1, NULL);
    static double prof[TF_NODE_KINDS][2];
    double (*nprof)[2] = calloc((size_t)tp.n_nodes, sizeof *nprof);
    if (getenv("TF_PROFILE")) { tp.profile = prof; tp.node_profile = nprof; }
    const size_t n = tp.t[tp.input].numel, np = tp.n_param_floats;
    float *x1 = malloc(sizeof(float) * n), *x0 = malloc(sizeof(float) * n), *tgt = malloc(sizeof(float) * n);
    float *m = calloc(np, sizeof(float)), *v = calloc(np, sizeof(float));
    TfAdamConfig ac = {TF_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0.0f};
    const int per = (int)(n / batch);
    /* --loader 1: x1 comes from the real data loader (MNIST shape; ./data/mnist if present,
     * else a generated IDX fixture) with its prefetch thread, and its host cost is reported. */
    TfDataset *ds = NULL;
    TfLoader *loader = NULL;
    if (use_loader) {
        if (strcmp(config, "mnist")) { fprintf(stderr, "--loader 1 needs --config mnist\n"); return 2; }
        char err[512];
        ds = tf_dataset_try_open("mnist", "data", "train", 0, 1, err, sizeof err);
        if (!ds) ds = tf_dataset_open("mnist", write_fixture(12800), "train", 0, 1);
        TfLoaderConfig lc = {ds, 1, batch, 0, 1, 1, 0, 2, 0};
        loader = tf_loader_create(&lc);
    }
    double t_total = 0.0;
    TfLoaderStats ls0 = {0}, ls1 = {0};
    for (int it = 0; it < warmup + iters; it++) {
        double t0 = now();
        /* flow-matching batch: x_t = t x1 + (1-t) x0, target x1 - x0 */
        TfRng r1 = tf_rng(1, TF_STREAM_USER, (uint64_t)it, 0), r0 = tf_rng(1, TF_STREAM_NOISE, (uint64_t)it, 0);
        if (loader) {
            const TfBatch *bt = tf_loader_next(loader);
            memcpy(x1, bt->x, sizeof(float) * n);
        } else {
            tf_rng_fill_normal(&r1, 0, x1, n);
        }
        tf_rng_fill_normal(&r0, 0, x0, n);
        float *xt = tf_tape_data(&tp, tp.input);
        for (int b = 0; b < batch; b++) {
            float t = tf_rng_uniform(&r1, n + (uint64_t)b);
            tp.time[b] = t;
            tp.labels[b] = b % 11;
            for (int k = 0; k < per; k++) {
                size_t i = (size_t)b * per + k;
                xt[i] = t * x1[i] + (1.0f - t) * x0[i];
                tgt[i] = x1[i] - x0[i];
            }
        }
        if (train) {
            tp.training = 1;
            tf_tape_zero_grad(&tp);
            tf_tape_forward(&tp);
            float *out = tf_tape_data(&tp, tp.output);
            (void)tf_mse_fwd(n, out, tgt, (double)n);
            tf_mse_bwd(n, out, tgt, (double)n, tf_tape_grad(&tp, tp.output), 0);
            tf_tape_backward(&tp);
            tf_adam_update(&ac, np, tp.param, tp.grad, m, v, it + 1, 2e-4f);
        } else {
            tp.training = 0;
            tf_tape_forward(&tp);
        }
        double dt = now() - t0;
        if (it >= warmup) t_total += dt;
        if (it + 1 == warmup && loader) tf_loader_stats(loader, &ls0);
        if (it + 1 == warmup && tp.profile) { memset(prof, 0, sizeof prof); memset(nprof, 0, sizeof(*nprof) * (size_t)tp.n_nodes); }
    }
    double step = t_total / iters;
    char extra[160] = "";
    if (loader) {
        tf_loader_stats(loader, &ls1);
        snprintf(extra, sizeof extra, ",\"loader_wait_ms\":%.3f,\"loader_prepare_ms\":%.3f",
                 1e3 * (ls1.wait_s - ls0.wait_s) / iters, 1e3 * (ls1.prepare_s - ls0.prepare_s) / iters);
    }
    double flops = 2.0 * tf_model_macs(&tp) * batch * (train ? 3.0 : 1.0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\":\"tinyflow\",\"config\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"threads\":%d,"
           "\"images_per_s\":%.2f,\"step_ms\":%.1f,\"gflops_effective\":%.1f,\"peak_rss_mb\":%.0f,"
           "\"params\":%zu,\"gemm\":\"%s\"%s}\n",
           config, mode, batch, omp_get_max_threads(), batch / step, step * 1e3, flops / step * 1e-9,
           ru.ru_maxrss / 1024.0, np, tf_gemm_provider(), extra);
    if (tp.profile) {
        tf_tape_print_profile(&tp);
        for (int i = 0; i < tp.n_nodes; i++)
            if (tp.nodes[i].kind == TF_NODE_CONV) {
                const TfConvShape *s = &tp.nodes[i].conv;
                double fl = 2.0 * s->B * s->Ho * s->Wo * s->Co * s->Ci * s->K * s->K * iters;
                printf("conv %dx%d s%d %3d->%3d %2dx%2d: fwd %6.1f ms %4.0f GF/s  bwd %6.1f ms %4.0f GF/s  %s\n", s->K, s->K,
                       s->stride, s->Ci, s->Co, s->H, s->W, 1e3 * nprof[i][0] / iters, fl / nprof[i][0] * 1e-9,
                       1e3 * nprof[i][1] / iters, 2 * fl / nprof[i][1] * 1e-9, tp.be->ops.conv2d_impl_name(s));
            }
    }
    free(nprof);
    if (loader) tf_loader_free(loader);
    if (ds) tf_dataset_free(ds);
    free(x1); free(x0); free(tgt); free(m); free(v);
    tf_tape_free(&tp);
    return 0;
}
