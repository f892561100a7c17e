/* step.c - one data-parallel training step (every rank runs it in lockstep):
 *   1. the flow batch of this rank's rows: t, x0, x_t, target, dropped labels, all keyed by
 *      (seed, step, GLOBAL sample index); OT pairs within the rank's rows, or over the global
 *      batch after an allgather (path.ot_scope);
 *   2. micro-batches: forward, MSE against the target with the GLOBAL element count as the
 *      denominator, backward (parameter gradients add up across micro-batches);
 *   3. one small MPI_Allreduce(MAX) of {non-finite here, stop signal number here}: every rank
 *      skips the same steps and stops at the same step;
 *   4. MPI_Allreduce(SUM) over the gradient arena = the gradient of the global-mean loss;
 *      global-norm clipping, Adam/AdamW at the schedule's rate, EMA.
 * Nothing is allocated here: tf_train_step_alloc sizes every buffer at start-up.
 * On a GPU (tr->dev, device.c) steps 1 and 3 are the same host code, the batch is uploaded
 * through the backend, and the loss, the finiteness check and step 4 are the device table's
 * (device_cuda.c: NCCL instead of MPI for the gradient sum); the CPU code below is unchanged.
 * Must not know about files, tracking, the command line or any device API. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "dist/signals.h"
#include "flow/batch.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "train/fault.h"
#include "train/train_internal.h"

_Static_assert(sizeof(int) == sizeof(int32_t), "labels are passed as int and int32_t");

void tf_train_step_alloc(TfTrainer *tr) {
    int64_t rows = tr->o.ot_global ? tr->o.batch : tr->L;
    size_t D = (size_t)tr->D;
    if (tr->o.ot_global) {
        tr->x1g = tf_aligned_alloc((size_t)rows * D * sizeof(float));
        tr->lab_in_g = tf_aligned_alloc((size_t)rows * sizeof(int));
    }
    tr->t = tf_aligned_alloc((size_t)rows * sizeof(float));
    tr->x0 = tf_aligned_alloc((size_t)rows * D * sizeof(float));
    tr->xt = tf_aligned_alloc((size_t)rows * D * sizeof(float));
    tr->target = tf_aligned_alloc((size_t)rows * D * sizeof(float));
    tr->lab_out = tf_aligned_alloc((size_t)rows * sizeof(int));
    size_t wb = tf_flow_batch_workspace_bytes(&tr->o.flow, (int)rows, (int)D);
    tr->work = wb ? tf_aligned_alloc(wb) : NULL;
}

void tf_train_step_free(TfTrainer *tr) {
    free(tr->x1g);
    free(tr->lab_in_g);
    free(tr->t);
    free(tr->x0);
    free(tr->xt);
    free(tr->target);
    free(tr->lab_out);
    free(tr->work);
}

/* Flow batch of this rank's rows; returns the row offset of rank's rows in the buffers. */
static int64_t flow_batch(TfTrainer *tr, const TfBatch *b, uint64_t step) {
    const int K = tr->o.model.num_classes, D = tr->D;
    if (tr->o.ot_global) {
        tf_dist_allgather(b->x, (size_t)tr->L * D * sizeof(float), tr->x1g);
        if (K > 0) tf_dist_allgather(b->y, (size_t)tr->L * sizeof(int), tr->lab_in_g);
        tf_flow_batch(&tr->o.flow, tr->o.seed, step, 0, (int)tr->o.batch, D, tr->x1g, K > 0 ? tr->lab_in_g : NULL,
                      tr->t, tr->x0, tr->xt, tr->target, tr->lab_out, tr->work);
        return (int64_t)tr->rank * tr->L;
    }
    tf_flow_batch(&tr->o.flow, tr->o.seed, step, (uint64_t)tr->rank * (uint64_t)tr->L, (int)tr->L, D, b->x,
                  K > 0 ? (const int *)b->y : NULL, tr->t, tr->x0, tr->xt, tr->target, tr->lab_out, tr->work);
    return 0;
}

/* Forward/backward over the micro-batches; returns this rank's share of the global-mean loss
 * (on a device: 0, the loss is still on it). */
static double local_grads(TfTrainer *tr, int64_t row0, uint64_t step) {
    TfTape *tp = &tr->st.tape;
    const TfBackend *be = tr->be;
    const size_t D = (size_t)tr->D, M = (size_t)tr->M;
    const double denom = (double)tr->o.batch * (double)D;
    double loss = 0.0;
    tf_tape_zero_grad(tp);
    for (int64_t k = 0; k < tr->n_micro; k++) {
        size_t r = (size_t)(row0 + k * tr->M);
        be->upload(tf_tape_data(tp, tp->input), tr->xt + r * D, M * D * sizeof(float));
        be->upload(tp->time, tr->t + r, M * sizeof(float));
        if (tr->o.model.num_classes > 0) be->upload(tp->labels, tr->lab_out + r, M * sizeof(int32_t));
        tp->training = 1;
        tp->seed = tr->o.seed;
        tp->step = step;
        tp->sample0 = (uint64_t)tr->rank * (uint64_t)tr->L + (uint64_t)(k * tr->M);
        tf_tape_forward(tp);
        if (tr->dev) { /* loss and its gradient on the device; the value stays there until check */
            tr->dev->loss(tr, tr->target + r * D, M * D, denom, k > 0);
        } else {
            const float *out = tf_tape_data(tp, tp->output);
            loss += tf_mse_fwd(M * D, out, tr->target + r * D, denom);
            tf_mse_bwd(M * D, out, tr->target + r * D, denom, tf_tape_grad(tp, tp->output), 0);
        }
        tf_tape_backward(tp);
    }
    return loss;
}

static void inject_faults(TfTrainer *tr, int64_t step, double *loss) {
    float *g = tr->st.tape.grad;
    if (tf_train_fault(TF_FAULT_NAN, tr->rank, step, NULL)) {
        *loss = NAN;
        if (tr->dev) tr->dev->poison_grad(tr, NAN);
        else for (size_t i = 0; i < tr->st.n; i++) g[i] = NAN;
    }
    if (tf_train_fault(TF_FAULT_INF, tr->rank, step, NULL)) {
        const float inf = INFINITY;
        if (tr->dev) tr->be->upload(g + tr->st.n / 2, &inf, sizeof inf); /* a device copy, ordered on its stream */
        else g[tr->st.n / 2] = INFINITY;
    }
    if (tf_train_fault(TF_FAULT_TERM, tr->rank, step, NULL)) {
        kill(getpid(), SIGTERM); /* process-directed, as a real one: the signal thread takes it */
        for (int i = 0; i < 200 && !tf_signals_pending(); i++) nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    if (tf_train_fault(TF_FAULT_KILL, tr->rank, step, NULL)) raise(SIGKILL);
    if (tf_train_fault(TF_FAULT_STOP, tr->rank, step, NULL)) raise(SIGSTOP);
}

int tf_train_step(TfTrainer *tr, const TfBatch *b, int *skipped) {
    TfTrainState *st = &tr->st;
    const int64_t s = st->step;
    const size_t n = st->n;
    float *grad = st->tape.grad, *param = st->tape.param;
    int64_t row0 = flow_batch(tr, b, (uint64_t)s);
    double loss = local_grads(tr, row0, (uint64_t)s);
    inject_faults(tr, s, &loss);
    int finite_here;
    if (tr->dev) { /* loss += the device's (NaN stays NaN), and its finiteness flag: the step's one wait */
        int grads_finite;
        tr->dev->check(tr, &loss, &grads_finite);
        finite_here = isfinite(loss) && grads_finite;
    } else {
        finite_here = isfinite(loss) && tf_all_finite(n, grad);
    }
    /* Agree on the step: skip it if any rank saw a non-finite value; stop if any rank got a signal. */
    int flags[2] = {!finite_here, tf_signals_pending()};
    tf_dist_allreduce_max_i32(flags, 2);
    *skipped = flags[0];
    tr->win_steps++;
    if (flags[0]) {
        st->skipped++;
        tr->consecutive_skips++;
    } else {
        tr->consecutive_skips = 0;
        tr->win_loss += loss;
        tr->win_ok++;
        long t = (long)(s - st->skipped) + 1; /* Adam updates so far, this one included */
        double lr = tf_lr_at(&tr->o.lr, s);
        double norm;
        if (tr->dev) { /* the same passes on the device (NCCL for the sum) */
            tr->dev->update(tr, t, (float)lr, &norm);
        } else {
            tf_dist_allreduce_sum_f32(grad, n);
            norm = tf_grad_norm(n, grad);
            if (tr->o.grad_clip > 0 && norm > tr->o.grad_clip) tf_scale(n, grad, (float)(tr->o.grad_clip / (norm + 1e-6)));
            tf_adam_update(&tr->o.adam, n, param, grad, st->m, st->v, t, (float)lr);
            if (st->ema) tf_ema_update(n, st->ema, param, tf_ema_decay((float)tr->o.ema_decay, t - 1));
        }
        tr->last_grad_norm = norm;
        tr->last_lr = lr;
    }
    st->step = s + 1;
    st->loader = tf_loader_state(tr->loader);
    return flags[1];
}
