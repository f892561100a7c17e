/* model_velocity.c - TfTape -> TfVelocityModel (see model_velocity.h). */
#include "eval/model_velocity.h"

#include <string.h>

#include "core/check.h"

static void load_inputs(TfTapeVelocity *tv, int n, const float *x, float t, const int *labels) {
    TfTape *tp = tv->tp;
    const int D = tv->model.dim, B = tp->batch;
    float *in = tf_tape_data(tp, tp->input);
    tp->be->upload(in, x, sizeof(float) * (size_t)n * D);
    if (n < B) tp->be->zero(in + (size_t)n * D, sizeof(float) * (size_t)(B - n) * D);
    float tt[1024];
    int32_t ll[1024];
    for (int b0 = 0; b0 < B; b0 += 1024) {
        int m = B - b0 < 1024 ? B - b0 : 1024;
        for (int i = 0; i < m; i++) {
            int b = b0 + i;
            tt[i] = t;
            ll[i] = (labels && b < n) ? labels[b] : tv->null_label;
        }
        tp->be->upload(tp->time + b0, tt, sizeof(float) * (size_t)m);
        tp->be->upload(tp->labels + b0, ll, sizeof(int32_t) * (size_t)m);
    }
}

static void velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    TfTapeVelocity *tv = ctx;
    TfTape *tp = tv->tp;
    if (n > tp->batch) tf_die("velocity: %d samples for a model built for %d", n, tp->batch);
    load_inputs(tv, n, x, t, labels);
    tp->training = 0;
    tf_tape_forward(tp);
    tv->calls++;
    tp->be->download(v, tf_tape_data(tp, tp->output), sizeof(float) * (size_t)n * tv->model.dim);
}

static void velocity_vjp(void *ctx, int n, const float *x, float t, const int *labels, const float *cot,
                         float *v, float *xgrad) {
    TfTapeVelocity *tv = ctx;
    TfTape *tp = tv->tp;
    const int D = tv->model.dim;
    if (!tp->input_needs_grad) tf_die("velocity_vjp needs a model built with TF_BUILD_INPUT_GRAD");
    if (n > tp->batch) tf_die("velocity_vjp: %d samples for a model built for %d", n, tp->batch);
    load_inputs(tv, n, x, t, labels);
    tp->training = 0;
    tf_tape_forward(tp);
    tv->calls++;
    tp->be->download(v, tf_tape_data(tp, tp->output), sizeof(float) * (size_t)n * D);
    float *gout = tf_tape_grad(tp, tp->output);
    tp->be->upload(gout, cot, sizeof(float) * (size_t)n * D);
    if (n < tp->batch) tp->be->zero(gout + (size_t)n * D, sizeof(float) * (size_t)(tp->batch - n) * D);
    tf_tape_zero_grad(tp); /* parameter gradients are a by-product here; keep them bounded */
    tf_tape_backward(tp);
    tp->be->download(xgrad, tf_tape_grad(tp, tp->input), sizeof(float) * (size_t)n * D);
}

void tf_tape_velocity_init(TfTapeVelocity *tv, TfTape *tp, int num_classes) {
    memset(tv, 0, sizeof *tv);
    size_t in = tp->t[tp->input].numel, out = tp->t[tp->output].numel;
    if (in != out) tf_die("velocity model: input (%zu) and output (%zu) sizes differ", in, out);
    tv->tp = tp;
    tv->null_label = num_classes > 0 ? num_classes : 0;
    tv->model.ctx = tv;
    tv->model.dim = (int)(in / (size_t)tp->batch);
    tv->model.velocity = velocity;
    tv->model.velocity_vjp = tp->input_needs_grad ? velocity_vjp : NULL;
    tv->model.max_batch = tp->batch;
}
