/* state.c - the model and optimizer arenas, checkpoints and resume.
 * Rank 0 saves (replicas are identical) and loads; every rank receives the loaded state by
 * broadcast, so ranks need no shared file system to resume. The counters a resume needs are
 * the step, the loader's (epoch, cursor), the skipped-step count and the current streak of
 * skipped steps (trainer.max_skips counts it across a resume): all randomness is keyed by
 * (seed, step, global sample), so nothing else carries over.
 * Everything here works on the host arenas (st->param_host, m, v, ema): on the CPU they are the
 * live state; on a GPU the trainer copies the device state into them first (TfTrainDevice
 * to_host) and a resume sends them back (from_host), so checkpoints are the same either way.
 * Must not know about the command line, the tracking sinks or any device API. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/rng.h"
#include "train/train_internal.h"

static const char *const k_groups[4] = {"param", "adam_m", "adam_v", "ema"};

void tf_train_state_init(TfTrainer *tr) {
    TfTrainState *st = &tr->st;
    memset(st, 0, sizeof *st);
    tf_model_build(&st->tape, &tr->o.model, tr->be, (int)tr->M, TF_BUILD_TRAIN, tr->o.seed, NULL);
    TfTape *tp = &st->tape;
    st->n = tp->n_param_floats;
    st->param_host = tr->dev ? tf_aligned_alloc(st->n * sizeof(float)) : tp->param;
    st->m = tf_aligned_alloc(st->n * sizeof(float));
    st->v = tf_aligned_alloc(st->n * sizeof(float));
    st->ema = tr->o.ema_decay > 0 ? tf_aligned_alloc(st->n * sizeof(float)) : NULL;
    int groups = st->ema ? 4 : 3, np = tp->n_params;
    float *arena[4] = {st->param_host, st->m, st->v, st->ema};
    st->names = tf_malloc((size_t)np * groups * (TF_NAME_MAX + 16));
    st->tensors = tf_calloc((size_t)np * groups, sizeof *st->tensors);
    st->sig = tf_calloc((size_t)np, sizeof *st->sig);
    char *nm = st->names;
    for (int g = 0; g < groups; g++)
        for (int i = 0; i < np; i++) {
            const TfParamInfo *p = &tp->params[i];
            TfCkptTensor *t = &st->tensors[st->n_tensors++];
            int len = snprintf(nm, TF_NAME_MAX + 16, "%s/%s", k_groups[g], p->name);
            t->name = nm;
            nm += len + 1;
            t->ndim = p->ndim;
            memcpy(t->shape, p->shape, sizeof t->shape);
            t->numel = p->numel;
            t->data = arena[g] + p->offset;
            if (g == 0) {
                st->sig[i] = *t;
                st->sig[i].name = t->name + strlen("param/");
            }
        }
}

void tf_train_state_free(TfTrainState *st) {
    if (st->param_host != st->tape.param) free(st->param_host);
    tf_tape_free(&st->tape);
    free(st->m);
    free(st->v);
    free(st->ema);
    free(st->tensors);
    free(st->sig);
    free(st->names);
    memset(st, 0, sizeof *st);
}

int tf_train_copy_group(const TfTape *tp, const TfCkpt *ck, const char *group, float *dst) {
    char name[TF_NAME_MAX + 16];
    for (int i = 0; i < tp->n_params; i++) {
        snprintf(name, sizeof name, "%s/%s", group, tp->params[i].name);
        const TfCkptTensor *t = tf_ckpt_tensor(ck, name);
        if (!t) return -1;
        TF_ASSERT(t->numel == tp->params[i].numel);
        memcpy(dst + tp->params[i].offset, t->data, t->numel * sizeof(float));
    }
    return 0;
}

static int is_dir(const char *p) {
    struct stat s;
    return !stat(p, &s) && S_ISDIR(s.st_mode);
}

TfCkpt *tf_train_find_checkpoint(const char *resume, const char *ckpt_dir, int required) {
    char err[2048], dir[4200];
    TfCkpt *ck = NULL;
    if (!strcmp(resume, "never")) return NULL;
    if (!strcmp(resume, "auto")) {
        snprintf(dir, sizeof dir, "%s", ckpt_dir);
    } else if (is_dir(resume)) {
        tf_ckpt_dir_of(resume, dir, sizeof dir); /* a run directory (DIR/checkpoints) or a checkpoint directory */
    } else {
        if (tf_ckpt_load(resume, &ck, err, sizeof err))
            tf_die_hint("pass a complete checkpoint file, or trainer.resume=auto to pick the newest good one",
                        "trainer.resume=%s: %s", resume, err);
        printf("resume: loading %s (trainer.resume names it)\n", ck->path);
        return ck;
    }
    int rc = tf_ckpt_find_latest(dir, stderr, &ck, err, sizeof err);
    if (rc < 0)
        tf_die_hint("remove or repair the damaged checkpoints, or start afresh with trainer.resume=never",
                    "no checkpoint in '%s' loads: %s", dir, err);
    if (rc == 0) {
        if (required)
            tf_die_usage("point trainer.resume at a run directory, a checkpoint directory or a .ckpt file",
                         "no complete checkpoint in '%s'", dir);
        printf("resume=%s: no checkpoint in %s; starting from step 0\n", resume, dir);
        return NULL;
    }
    printf("resume=%s: newest complete checkpoint is %s (step %llu)\n", resume, ck->path,
           (unsigned long long)ck->meta.step);
    return ck;
}

/* Rank 0: load, check, copy into the arenas. Returns the header to broadcast. */
static void load_on_root(TfTrainer *tr, int64_t hdr[7]) {
    TfTrainState *st = &tr->st;
    /* auto may start afresh; a path the user named must hold a checkpoint */
    TfCkpt *ck = tf_train_find_checkpoint(tr->o.resume, tr->ckpt_dir, strcmp(tr->o.resume, "auto") != 0);
    if (!ck) return;
    char err[2048];
    const char *arch = tf_model_kind_name(tr->o.model.kind);
    if (tf_ckpt_check_signature(ck, arch, st->sig, st->tape.n_params, tr->cfg_text, err, sizeof err))
        tf_die_usage("resume with the model.* settings the checkpoint was trained with, or use another "
                     "trainer.out_dir / trainer.resume=never",
                     "%s", err);
    if (tf_train_copy_group(&st->tape, ck, "param", st->param_host) ||
        tf_train_copy_group(&st->tape, ck, "adam_m", st->m) || tf_train_copy_group(&st->tape, ck, "adam_v", st->v))
        tf_die_usage("resume from a training checkpoint (with adam_m/ and adam_v/)",
                     "checkpoint '%s' has no optimizer state", ck->path);
    if (st->ema && tf_train_copy_group(&st->tape, ck, "ema", st->ema)) {
        printf("note: %s has no EMA; the EMA restarts from the parameters\n", ck->path);
        memcpy(st->ema, st->param_host, st->n * sizeof(float));
    }
    char diff[1024];
    if (tf_ckpt_config_diff(ck->meta.config_text, tr->cfg_text, NULL, diff, sizeof diff))
        printf("note: the config differs from the checkpoint's: %s\n", diff);
    if (ck->meta.seed != tr->o.seed)
        printf("warning: trainer.seed = %llu but the checkpoint was trained with %llu: the resumed run draws "
               "different noise than the original would have\n",
               (unsigned long long)tr->o.seed, (unsigned long long)ck->meta.seed);
    printf("resuming from %s: step %llu, epoch %llu, loader cursor %llu, %llu skipped steps (%llu in a row), saved "
           "by %u rank(s)\n", ck->path, (unsigned long long)ck->meta.step, (unsigned long long)ck->meta.epoch,
           (unsigned long long)ck->meta.loader_cursor, (unsigned long long)ck->meta.skipped_steps,
           (unsigned long long)ck->meta.consecutive_skips, ck->meta.world_size);
    hdr[0] = 1;
    hdr[1] = (int64_t)ck->meta.step;
    hdr[2] = (int64_t)ck->meta.epoch;
    hdr[3] = (int64_t)ck->meta.loader_cursor;
    hdr[4] = (int64_t)ck->meta.skipped_steps;
    memcpy(&hdr[5], &ck->meta.train_seconds, sizeof(double));
    hdr[6] = (int64_t)ck->meta.consecutive_skips;
    tf_ckpt_free(ck);
}

int tf_train_resume(TfTrainer *tr) {
    TfTrainState *st = &tr->st;
    int64_t hdr[7] = {0};
    if (tr->dev) tr->dev->to_host(tr); /* the freshly initialised parameters, on a device */
    if (tr->rank == 0) {
        load_on_root(tr, hdr);
        fflush(stdout);
    }
    tf_dist_bcast(hdr, sizeof hdr, 0);
    /* parameters always come from rank 0 (fresh ones too: replicas start identical) */
    tf_dist_bcast(st->param_host, st->n * sizeof(float), 0);
    if (hdr[0]) {
        tf_dist_bcast(st->m, st->n * sizeof(float), 0);
        tf_dist_bcast(st->v, st->n * sizeof(float), 0);
        if (st->ema) tf_dist_bcast(st->ema, st->n * sizeof(float), 0);
        st->step = hdr[1];
        st->loader.epoch = hdr[2];
        st->loader.cursor = hdr[3];
        st->skipped = hdr[4];
        memcpy(&st->train_seconds, &hdr[5], sizeof(double));
        tr->consecutive_skips = hdr[6];
    } else {
        memset(st->m, 0, st->n * sizeof(float));
        memset(st->v, 0, st->n * sizeof(float));
        if (st->ema) memcpy(st->ema, st->param_host, st->n * sizeof(float));
        st->step = st->skipped = 0;
        st->loader.epoch = st->loader.cursor = 0;
        st->train_seconds = 0;
        tr->consecutive_skips = 0;
    }
    if (tr->dev) tr->dev->from_host(tr);
    return (int)hdr[0];
}

int tf_train_save(TfTrainer *tr, char *path, size_t cap) {
    TfTrainState *st = &tr->st;
    char err[2048];
    if (mkdir(tr->ckpt_dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "[rank 0] warning: cannot create %s: %s; no checkpoint saved\n", tr->ckpt_dir, strerror(errno));
        return -1;
    }
    TfCkptMeta meta;
    memset(&meta, 0, sizeof meta);
    meta.arch = tf_model_kind_name(tr->o.model.kind);
    meta.config_text = tr->cfg_text;
    meta.step = (uint64_t)st->step;
    meta.epoch = (uint64_t)st->loader.epoch;
    meta.loader_cursor = (uint64_t)st->loader.cursor;
    meta.seed = tr->o.seed;
    meta.rng_key = tf_splitmix64(tr->o.seed); /* the key every stream derives from (a check) */
    meta.skipped_steps = (uint64_t)st->skipped;
    meta.consecutive_skips = (uint64_t)tr->consecutive_skips;
    meta.world_size = (uint32_t)tr->world;
    meta.train_seconds = st->train_seconds + (tf_train_now() - tr->t_start);
    if (tf_ckpt_save(tr->ckpt_dir, &meta, st->tensors, st->n_tensors, path, cap, err, sizeof err)) {
        fprintf(stderr, "[rank 0] warning: checkpoint at step %lld not saved: %s\n", (long long)st->step, err);
        return -1;
    }
    if (tf_ckpt_retain(tr->ckpt_dir, (int)tr->o.keep_last, (uint64_t)tr->o.keep_every, NULL, err, sizeof err) < 0)
        fprintf(stderr, "[rank 0] warning: checkpoint retention in %s failed: %s\n", tr->ckpt_dir, err);
    return 0;
}

void tf_train_check_replicas(TfTrainer *tr) {
    const unsigned char *p = (const unsigned char *)tr->st.param_host;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < tr->st.n * sizeof(float); i++) h = (h ^ p[i]) * 1099511628211ull;
    uint64_t lo, hi;
    tf_dist_allreduce_minmax_u64(h, &lo, &hi);
    if (lo != hi)
        tf_die("model replicas diverged at step %lld (parameter hashes differ between ranks): the gradient "
               "reduction or the optimizer is not identical on every rank", (long long)tr->st.step);
}
