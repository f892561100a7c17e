/* device_cuda.c - the training step's device part on one GPU (trainer.device = cuda); compiled
 * only in CUDA builds (CMakeLists.txt: TF_CUDA_ONLY_SOURCES). One process drives one GPU: local
 * rank mod the visible devices. The tape's parameters and gradients are device arenas (the
 * CUDA backend); here live the Adam moments, the EMA, one micro-batch's target and a few device
 * scalars. Per step: the target goes up with the batch (step.c uploads x_t, t, labels), the MSE
 * and its gradient run as `_cuda` losses, the finiteness flag and the loss come down together
 * (the skip decision needs them: one wait), then NCCL sums the gradient arena (world > 1), and
 * the norm, clipping, Adam/AdamW and EMA run as the `_cuda` optimizer passes; the norm comes
 * down for the log. The same arithmetic as the CPU step (optim_cuda.h mirrors adam.c); results
 * agree to rounding, not bitwise (docs/cuda.md). Host copies of parameters, moments and EMA are
 * made only for checkpoints, the replica check and evaluations (to_host), and sent back after a
 * resume (from_host), so checkpoints are the same files on either device.
 * Every CUDA, NCCL and MPI call is checked (ops_cuda.h, nccl.h); the backend's copies check theirs.
 * Must not know about files, tracking, the command line or the CPU step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_cuda.h"
#include "core/check.h"
#include "ops/ops_cuda.h"
#include "optim/optim_cuda.h"
#include "train/train_internal.h"

#ifdef TF_HAVE_NCCL /* nccl.h needs NCCL's header */
#include <mpi.h>

#include "dist/nccl.h"
#endif

/* Device scalars, one allocation so the loss and the flag come down in one copy. */
enum { S_LOSS = 0, S_NORM = 1, S_FLAG = 2, S_COUNT = 4 };

typedef struct {
    float *m, *v, *ema;     /* device arenas, the tape's layout (ema NULL when off) */
    float *target;          /* [M * D]: one micro-batch's target */
    double *scalars;        /* [S_LOSS] loss (double), [S_NORM] norm (double), [S_FLAG] finite flag (int) */
    double *loss_partials;  /* TF_CUDA_LOSS_PARTIALS */
    double *norm_partials;  /* TF_OPTIM_NORM_CHUNKS */
    int *flag_partials;     /* TF_OPTIM_NORM_CHUNKS */
    int nccl;               /* gradients summed with NCCL (world > 1) */
} CudaState;

static CudaState *state(TfTrainer *tr) {
    TF_ASSERT(tr->dev_state != NULL);
    return tr->dev_state;
}

static void cuda_alloc(TfTrainer *tr) {
    const TfBackend *be = tr->be;
    CudaState *cs = tf_calloc(1, sizeof *cs);
    const size_t n = tr->st.n;
    cs->m = be->alloc(n * sizeof(float));
    cs->v = be->alloc(n * sizeof(float));
    cs->ema = tr->st.ema ? be->alloc(n * sizeof(float)) : NULL;
    cs->target = be->alloc((size_t)tr->M * (size_t)tr->D * sizeof(float));
    cs->scalars = be->alloc(S_COUNT * sizeof(double));
    cs->loss_partials = be->alloc(TF_CUDA_LOSS_PARTIALS * sizeof(double));
    cs->norm_partials = be->alloc(TF_OPTIM_NORM_CHUNKS * sizeof(double));
    cs->flag_partials = be->alloc(TF_OPTIM_NORM_CHUNKS * sizeof(int));
#ifdef TF_HAVE_NCCL
    cs->nccl = tf_nccl_ready();
#endif
    tr->dev_state = cs;
}

static void cuda_free(TfTrainer *tr) {
    CudaState *cs = tr->dev_state;
    if (!cs) return;
    const TfBackend *be = tr->be;
    be->sync(); /* nothing in flight uses what is released */
#ifdef TF_HAVE_NCCL
    if (cs->nccl) tf_nccl_finalize();
#endif
    be->release(cs->m);
    be->release(cs->v);
    be->release(cs->ema);
    be->release(cs->target);
    be->release(cs->scalars);
    be->release(cs->loss_partials);
    be->release(cs->norm_partials);
    be->release(cs->flag_partials);
    free(cs);
    tr->dev_state = NULL;
}

static void cuda_to_host(TfTrainer *tr) {
    CudaState *cs = state(tr);
    TfTrainState *st = &tr->st;
    const size_t bytes = st->n * sizeof(float);
    tr->be->download(st->param_host, st->tape.param, bytes);
    tr->be->download(st->m, cs->m, bytes);
    tr->be->download(st->v, cs->v, bytes);
    if (st->ema) tr->be->download(st->ema, cs->ema, bytes);
}

static void cuda_from_host(TfTrainer *tr) {
    CudaState *cs = state(tr);
    TfTrainState *st = &tr->st;
    const size_t bytes = st->n * sizeof(float);
    tr->be->upload(st->tape.param, st->param_host, bytes);
    tr->be->upload(cs->m, st->m, bytes);
    tr->be->upload(cs->v, st->v, bytes);
    if (st->ema) tr->be->upload(cs->ema, st->ema, bytes);
    tr->be->sync();
}

static void cuda_loss(TfTrainer *tr, const float *target, size_t n, double denom, int acc) {
    CudaState *cs = state(tr);
    TfTape *tp = &tr->st.tape;
    TF_ASSERT(n <= (size_t)tr->M * (size_t)tr->D);
    /* ordered on the stream after the previous micro-batch's kernels that read the target */
    tr->be->upload(cs->target, target, n * sizeof(float));
    const float *out = tf_tape_data(tp, tp->output);
    tf_mse_fwd_cuda(n, out, cs->target, denom, &cs->scalars[S_LOSS], cs->loss_partials, acc);
    tf_mse_bwd_cuda(n, out, cs->target, denom, tf_tape_grad(tp, tp->output), 0);
}

static void cuda_poison_grad(TfTrainer *tr, float value) {
    /* x * NaN = NaN and x * Inf = +-Inf or NaN for every x: non-finite everywhere, as asked */
    tf_scale_cuda(tr->st.n, tr->st.tape.grad, value, tf_backend_cuda_stream());
}

static void cuda_check(TfTrainer *tr, double *loss, int *finite) {
    CudaState *cs = state(tr);
    tf_all_finite_cuda(tr->st.n, tr->st.tape.grad, (int *)&cs->scalars[S_FLAG], cs->flag_partials,
                       tf_backend_cuda_stream());
    double s[S_FLAG + 1];
    tr->be->download(s, cs->scalars, sizeof s); /* the step's wait: loss and flag together */
    int flag;
    memcpy(&flag, &s[S_FLAG], sizeof flag);
    *loss += s[S_LOSS];
    *finite = flag != 0;
}

static void cuda_update(TfTrainer *tr, long t, float lr, double *norm) {
    CudaState *cs = state(tr);
    TfTrainState *st = &tr->st;
    cudaStream_t stream = tf_backend_cuda_stream();
    const size_t n = st->n;
    float *grad = st->tape.grad, *param = st->tape.param;
#ifdef TF_HAVE_NCCL
    if (cs->nccl) tf_nccl_allreduce_sum(grad, n, stream); /* ordered on the stream; no host wait */
#endif
    tf_grad_norm_cuda(n, grad, &cs->scalars[S_NORM], cs->norm_partials, stream);
    if (tr->o.grad_clip > 0) tf_clip_by_norm_cuda(n, grad, &cs->scalars[S_NORM], tr->o.grad_clip, stream);
    tf_adam_update_cuda(&tr->o.adam, n, param, grad, cs->m, cs->v, t, lr, stream);
    if (cs->ema) tf_ema_update_cuda(n, cs->ema, param, tf_ema_decay((float)tr->o.ema_decay, t - 1), stream);
    tr->be->download(norm, &cs->scalars[S_NORM], sizeof *norm); /* waits for the update too */
#ifdef TF_HAVE_NCCL
    if (cs->nccl) tf_nccl_check_async();
#endif
}

static const TfTrainDevice k_cuda = {
    .name = "cuda",
    .alloc = cuda_alloc,
    .free = cuda_free,
    .to_host = cuda_to_host,
    .from_host = cuda_from_host,
    .loss = cuda_loss,
    .poison_grad = cuda_poison_grad,
    .check = cuda_check,
    .update = cuda_update,
};

const TfTrainDevice *tf_train_cuda_open(TfTrainer *tr) {
    const int visible = tf_cuda_device_count();
    if (tr->world > 1 && tr->dist->local_size > visible)
        tf_die_usage("start at most one rank per GPU on each node (e.g. mpirun -np <GPUs>, or srun "
                     "--ntasks-per-node=<GPUs>); check CUDA_VISIBLE_DEVICES",
                     "trainer.device=cuda: %d ranks on node %s but %d GPU(s) visible there: NCCL needs one GPU "
                     "per rank", tr->dist->local_size, tr->dist->host, visible);
    tr->be = tf_backend_cuda(tr->dist->local_rank); /* local rank mod the visible devices */
    if (tr->world > 1) {
#ifdef TF_HAVE_NCCL
        tf_nccl_init(MPI_COMM_WORLD); /* binds the device tf_backend_cuda made current */
#else
        tf_die_usage("rebuild with NCCL (NCCL_ROOT, docs/cuda.md), or train on one GPU (one rank)",
                     "trainer.device=cuda with %d ranks needs NCCL, and this build has none", tr->world);
#endif
    }
    return &k_cuda;
}
