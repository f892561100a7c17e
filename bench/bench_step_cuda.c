/* bench_step_cuda.c - times tinyflow's flow-matching training step (upload of the batch,
 * forward, MSE, backward, gradient norm, Adam, reading the loss) or sampling step (forward
 * only) of a named UNet on one GPU with the CUDA backend, and prints ONE JSON line like
 * bench_step (impl "tinyflow-cuda"). The batches (x_t, t, labels, target) are drawn on the
 * host before timing, so the step measures the GPU, not the host RNG. Usage:
 *   bench_step_cuda --config mnist|cifar --mode train|sample --batch N [--iters K]
 *                   [--warmup W] [--device D] [--tf32 0|1]
 * TF_PROFILE=1 adds a per-node-kind table and per-convolution timings (synchronising after
 * every node, so the step itself is slower then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend_cuda.h"
#include "core/rng.h"
#include "model/model.h"
#include "ops/ops_cuda.h"
#include "optim/optim_cuda.h"

#define NBATCH 4 /* distinct pre-drawn batches, cycled */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    const char *config = "cifar", *mode = "train";
    int batch = 0, iters = 0, warmup = 3, device = 0, tf32 = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--config")) config = argv[i + 1];
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--device")) device = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tf32")) tf32 = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (tf_cuda_device_count() <= 0) {
        char why[256];
        fprintf(stderr, "bench_step_cuda: %s\n", tf_cuda_describe_devices(why, sizeof why));
        return 77;
    }
    const int train = !strcmp(mode, "train");
    if (!batch) batch = 128;
    if (!iters) iters = 20;
    const TfBackend *be = tf_backend_cuda(device);
    if (tf32 >= 0) tf_backend_cuda_set_tf32(tf32);
    cudaStream_t st = tf_backend_cuda_stream();
    size_t free0 = 0, total = 0;
    TF_CUDA_CHECK(cudaMemGetInfo(&free0, &total));
    TfModelConfig c = tf_model_config_named(config);
    TfTape tp;
    tf_model_build(&tp, &c, be, batch, train ? TF_BUILD_TRAIN : TF_BUILD_INFERENCE, 1, NULL);
    static double prof[TF_NODE_KINDS][2];
    double (*nprof)[2] = calloc((size_t)tp.n_nodes, sizeof *nprof);
    if (getenv("TF_PROFILE")) { tp.profile = prof; tp.node_profile = nprof; }
    const size_t n = tp.t[tp.input].numel, np = tp.n_param_floats, per = n / (size_t)batch;
    /* pre-drawn batches on the host */
    float *xt[NBATCH], *tgt[NBATCH], *tt[NBATCH];
    int32_t *lab[NBATCH];
    float *x1 = malloc(sizeof(float) * n), *x0 = malloc(sizeof(float) * n);
    for (int k = 0; k < NBATCH; k++) {
        xt[k] = malloc(sizeof(float) * n); tgt[k] = malloc(sizeof(float) * n);
        tt[k] = malloc(sizeof(float) * batch); lab[k] = malloc(sizeof(int32_t) * batch);
        TfRng r1 = tf_rng(1, TF_STREAM_USER, (uint64_t)k, 0), r0 = tf_rng(1, TF_STREAM_NOISE, (uint64_t)k, 0);
        tf_rng_fill_normal(&r1, 0, x1, n);
        tf_rng_fill_normal(&r0, 0, x0, n);
        for (int b = 0; b < batch; b++) {
            float t = tf_rng_uniform(&r1, n + (uint64_t)b);
            tt[k][b] = t;
            lab[k][b] = b % (c.num_classes + 1);
            for (size_t q = 0; q < per; q++) {
                size_t i = (size_t)b * per + q;
                xt[k][i] = t * x1[i] + (1.0f - t) * x0[i];
                tgt[k][i] = x1[i] - x0[i];
            }
        }
    }
    float *dtgt = be->alloc(sizeof(float) * n), *m = NULL, *v = NULL;
    double *dloss = be->alloc(sizeof(double)), *dnorm = be->alloc(sizeof(double));
    double *part = be->alloc(sizeof(double) * (TF_CUDA_LOSS_PARTIALS > TF_OPTIM_NORM_CHUNKS ? TF_CUDA_LOSS_PARTIALS : TF_OPTIM_NORM_CHUNKS));
    if (train) { m = be->alloc(sizeof(float) * np); v = be->alloc(sizeof(float) * np); }
    TfAdamConfig ac = {TF_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0.0f};
    double t_total = 0.0, loss = 0.0, first_loss = 0.0;
    for (int it = 0; it < warmup + iters; it++) {
        const int k = it % NBATCH;
        double t0 = now();
        be->upload(tf_tape_data(&tp, tp.input), xt[k], sizeof(float) * n);
        be->upload(tp.time, tt[k], sizeof(float) * batch);
        be->upload(tp.labels, lab[k], sizeof(int32_t) * batch);
        if (train) {
            be->upload(dtgt, tgt[k], sizeof(float) * n);
            tp.training = 1; tp.seed = 1; tp.step = (uint64_t)it; tp.sample0 = 0;
            tf_tape_zero_grad(&tp);
            tf_tape_forward(&tp);
            float *out = tf_tape_data(&tp, tp.output);
            tf_mse_fwd_cuda(n, out, dtgt, (double)n, dloss, part, 0);
            tf_mse_bwd_cuda(n, out, dtgt, (double)n, tf_tape_grad(&tp, tp.output), 0);
            tf_tape_backward(&tp);
            tf_grad_norm_cuda(np, tp.grad, dnorm, part, st);
            tf_adam_update_cuda(&ac, np, tp.param, tp.grad, m, v, it + 1, 2e-4f, st);
            be->download(&loss, dloss, sizeof loss); /* the step's one host synchronisation */
            if (it == 0) first_loss = loss;
        } else {
            tp.training = 0;
            tf_tape_forward(&tp);
            be->sync();
        }
        double dt = now() - t0;
        if (it >= warmup) t_total += dt;
        if (it + 1 == warmup && tp.profile) { memset(prof, 0, sizeof prof); memset(nprof, 0, sizeof(*nprof) * (size_t)tp.n_nodes); }
    }
    size_t free1 = 0;
    TF_CUDA_CHECK(cudaMemGetInfo(&free1, &total));
    const double step = t_total / iters, flops = 2.0 * tf_model_macs(&tp) * batch * (train ? 3.0 : 1.0);
    struct cudaDeviceProp prop;
    TF_CUDA_CHECK(cudaGetDeviceProperties(&prop, tf_backend_cuda_device()));
    printf("{\"impl\":\"tinyflow-cuda\",\"config\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"device\":\"%s\",\"tf32\":%s,"
           "\"images_per_s\":%.2f,\"step_ms\":%.2f,\"gflops_effective\":%.1f,\"gpu_mem_mb\":%.0f,\"params\":%zu,"
           "\"iters\":%d,\"warmup\":%d,\"loss_first\":%.6g,\"loss_last\":%.6g,\"profiled\":%s}\n",
           config, mode, batch, prop.name, tf_cuda_tf32() ? "true" : "false", batch / step, step * 1e3,
           flops / step * 1e-9, (double)(free0 - free1) / (1024.0 * 1024.0), np, iters, warmup, first_loss, loss,
           tp.profile ? "true" : "false");
    if (tp.profile) {
        tf_tape_print_profile(&tp);
        for (int i = 0; i < tp.n_nodes; i++)
            if (tp.nodes[i].kind == TF_NODE_CONV) {
                const TfConvShape *s = &tp.nodes[i].conv;
                double fl = 2.0 * s->B * s->Ho * s->Wo * s->Co * s->Ci * s->K * s->K * iters;
                printf("conv %dx%d s%d %3d->%3d %2dx%2d: fwd %7.3f ms %6.0f GF/s  bwd %7.3f ms %6.0f GF/s  %s\n", s->K,
                       s->K, s->stride, s->Ci, s->Co, s->H, s->W, 1e3 * nprof[i][0] / iters, fl / nprof[i][0] * 1e-9,
                       1e3 * nprof[i][1] / iters, 2 * fl / nprof[i][1] * 1e-9, tp.be->ops.conv2d_impl_name(s));
            }
    }
    for (int k = 0; k < NBATCH; k++) { free(xt[k]); free(tgt[k]); free(tt[k]); free(lab[k]); }
    free(x1); free(x0); free(nprof);
    be->release(dtgt); be->release(dloss); be->release(dnorm); be->release(part); be->release(m); be->release(v);
    tf_tape_free(&tp);
    return 0;
}
