/* trainer.c - tf_train_run: start-up (threads, data, model, resume), the loop, and the
 * schedule every rank follows in lockstep: log windows (one small loss allreduce), checkpoints
 * (rank 0 saves; all ranks compare replica hashes), evaluations (rank 0), an agreed stop on a
 * signal, the watchdog budgets (a step gets trainer.step_timeout; start-up, a save or an
 * evaluation, and the step right after them, get trainer.eval_timeout, because peers wait for
 * rank 0 in that step's first collective). trainer.device picks the backend (device.c); on a
 * GPU the device state is copied to the host arenas before every save or evaluation.
 * Must not know about the command line. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "dist/signals.h"
#include "dist/watchdog.h"
#include "track/progress.h"
#include "track/util.h"
#include "train/fault.h"
#include "train/train_internal.h"

double tf_train_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int choose_threads(const TfTrainer *tr, const char **why) {
    if (tr->o.threads > 0) { *why = "trainer.threads"; return tr->o.threads; }
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && atoi(env) > 0) { *why = "OMP_NUM_THREADS"; return atoi(env); }
    *why = "cores of this rank's affinity mask, shared with the node's other ranks";
    return tr->dist->cpu_share;
}

static char *config_text(const TfCfg *cfg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) tf_die("cannot open a memory stream for the config text");
    TfCfgError err;
    if (tf_cfg_dump(cfg, f, 1, &err)) tf_die_usage(err.hint, "%s", err.msg);
    fclose(f);
    return buf;
}

static void open_data(TfTrainer *tr) {
    const TfTrainOpts *o = &tr->o;
    tr->ds = tf_dataset_open(o->dataset, o->root, o->split, o->n_samples, o->seed);
    tr->C = tr->ds->c;
    tr->H = tr->ds->h;
    tr->W = tr->ds->w;
    tr->D = tr->C * tr->H * tr->W;
    if (tr->D != tf_model_sample_dim(&o->model))
        tf_die_usage("set model.in_ch / model.image_size from the dataset", "the model takes %d numbers per sample, %s has %d",
                     tf_model_sample_dim(&o->model), o->dataset, tr->D);
    TfLoaderConfig lc = {tr->ds, o->seed, o->batch, tr->rank, tr->world, 1, o->hflip, o->prefetch, o->dequantize};
    tr->loader = tf_loader_create(&lc);
    tr->steps_per_epoch = tf_loader_steps_per_epoch(tr->loader);
    tr->total_steps = o->steps > 0 ? o->steps : o->epochs * tr->steps_per_epoch;
    tr->L = o->batch / tr->world;
    tr->M = o->micro_batch > 0 ? o->micro_batch : tr->L;
    if (tr->L % tr->M) tf_die_usage("make trainer.micro_batch divide the per-rank batch",
                                   "trainer.micro_batch = %lld does not divide %lld", (long long)tr->M, (long long)tr->L);
    tr->n_micro = tr->L / tr->M;
    tr->o.lr.total = tr->total_steps;
    tf_lr_schedule_check(&tr->o.lr);
}

static void banner(const TfTrainer *tr, int threads, const char *why, int resumed) {
    if (tr->rank) return;
    const TfTape *tp = &tr->st.tape;
    if (tr->dist->mpi)
        printf("tinyflow train: %d rank(s) (%d on this node), %d thread(s) per rank (%s), MPI thread level %d\n",
               tr->world, tr->dist->local_size, threads, why, tr->dist->thread_level);
    else
        printf("tinyflow train: a plain process (no MPI launcher), %d thread(s) (%s)\n", threads, why);
    printf("  model %s: %zu parameters (%.2f MiB per arena), data %s %dx%dx%d (%lld steps per epoch)\n",
           tf_model_kind_name(tr->o.model.kind), tr->st.n, (double)tr->st.n * 4.0 / 1048576.0, tr->o.dataset, tr->C,
           tr->H, tr->W, (long long)tr->steps_per_epoch);
    printf("  global batch %lld = %d x %lld per rank, micro-batch %lld (%lld per step), %lld steps%s, tape %.1f MiB\n",
           (long long)tr->o.batch, tr->world, (long long)tr->L, (long long)tr->M, (long long)tr->n_micro,
           (long long)tr->total_steps, resumed ? " (resumed)" : "", (double)tf_tape_bytes(tp) / 1048576.0);
    if (strcmp(tr->o.device, "cpu")) printf("  device %s\n", tr->device_text); /* the default banner is unchanged */
    printf("  run dir %s\n", tr->run_dir);
    fflush(stdout);
}

/* The STOPPED marker, written atomically (temp file O_EXCL|O_NOFOLLOW, fsync, rename: a planted
 * symlink is never followed); dies naming the file if it cannot be written. */
static void write_stopped(const TfTrainer *tr, int sig, const char *ckpt) {
    char path[4300], text[4500];
    tf_track_path(path, sizeof path, "%s/STOPPED", tr->run_dir);
    int n = snprintf(text, sizeof text, "signal %s\nstep %lld\ncheckpoint %s\n", tf_signal_name(sig),
                     (long long)tr->st.step, ckpt);
    tf_track_write_atomic(path, text, (size_t)n);
}

int tf_train_run(const TfCfg *cfg, const char *run_dir) {
    TfTrainer *tr = tf_calloc(1, sizeof *tr);
    tr->cfg = cfg;
    tr->run_dir = run_dir;
    tr->dist = tf_dist_get();
    TF_ASSERT(tr->dist != NULL);
    tr->rank = tr->dist->rank;
    tr->world = tr->dist->world;
    tr->t_start = tf_train_now();
    snprintf(tr->ckpt_dir, sizeof tr->ckpt_dir, "%s/checkpoints", run_dir);
    tf_train_opts_read(cfg, &tr->o);
    tf_train_fault_init();
    tf_signals_install();
    tf_watchdog_start(0.25);
    tf_watchdog_arm(tr->o.eval_timeout, "start-up before step", 0);
    const char *why;
    int threads = choose_threads(tr, &why);
    omp_set_num_threads(threads);
    tf_train_device_open(tr); /* trainer.device: tr->be, and tr->dev on a GPU */
    open_data(tr);
    tf_train_state_init(tr);
    if (tr->dev) tr->dev->alloc(tr);
    tf_train_step_alloc(tr);
    tr->cfg_text = config_text(cfg);
    if (tr->rank == 0) {
        char stopped[4300];
        snprintf(stopped, sizeof stopped, "%s/STOPPED", run_dir);
        unlink(stopped);
    }
    int resumed = tf_train_resume(tr);
    tf_loader_set_state(tr->loader, tr->st.loader);
    tr->start_step = tr->st.step;
    banner(tr, threads, why, resumed);
    if (tr->rank == 0) tf_coord_open(tr, resumed);

    int rc = TF_EXIT_OK, stop = 0, long_phase = 1;
    char last_ckpt[4300] = "";
    int64_t last_saved = resumed ? tr->st.step : -1;
    tr->win_t0 = tf_train_now();
    while (tr->st.step < tr->total_steps) {
        int64_t s = tr->st.step;
        tf_watchdog_arm(long_phase ? tr->o.eval_timeout : tr->o.step_timeout, "step", s);
        long_phase = 0;
        const TfBatch *b = tf_loader_next(tr->loader);
        tr->epoch = b->epoch;
        int skipped;
        stop = tf_train_step(tr, b, &skipped);
        int64_t done = tr->st.step;
        if (skipped && tr->rank == 0)
            fprintf(stderr, "[rank 0] step %lld: non-finite loss or gradients on at least one rank; step skipped on "
                            "every rank (%lld in a row, %lld in all)\n",
                    (long long)s, (long long)tr->consecutive_skips, (long long)tr->st.skipped);
        int64_t limit = tr->o.max_skips > 0 ? tr->o.max_skips : 1;
        if (tr->consecutive_skips >= limit) {
            if (tr->rank == 0)
                fprintf(stderr, "[rank 0] error: %lld non-finite steps in a row (trainer.max_skips = %lld): stopping; "
                                "the last complete checkpoint holds the last finite state\n  hint: lower optim.lr, "
                                "enable optim.grad_clip, or check the data\n",
                        (long long)tr->consecutive_skips, (long long)tr->o.max_skips);
            rc = TF_EXIT_FAILURE;
            break;
        }
        if (done % tr->o.log_every == 0 || done == tr->total_steps || stop) {
            double w[1] = {tr->win_loss};
            tf_dist_allreduce_sum_f64(w, 1);
            if (tr->rank == 0) tf_coord_log(tr, tr->win_ok ? w[0] / (double)tr->win_ok : NAN);
            tr->win_loss = 0;
            tr->win_steps = tr->win_ok = 0;
            tr->win_t0 = tf_train_now();
        }
        int at_end = done == tr->total_steps;
        int want_ckpt = stop || at_end || (tr->o.ckpt_every > 0 && done % tr->o.ckpt_every == 0);
        int want_eval = tr->o.eval_every > 0 && !stop && (done % tr->o.eval_every == 0 || at_end);
        if (want_ckpt || want_eval) {
            if (tr->rank == 0) tf_progress_done(stdout);
            tf_watchdog_arm(tr->o.eval_timeout, want_eval ? "evaluation after step" : "checkpoint after step", done);
            long_phase = 1;
        }
        if ((want_ckpt || want_eval) && tr->dev) tr->dev->to_host(tr); /* what saves and evaluations read */
        if (want_ckpt) {
            tf_train_check_replicas(tr);
            if (tr->rank == 0 && tf_train_save(tr, last_ckpt, sizeof last_ckpt) == 0) {
                last_saved = done;
                printf("checkpoint: %s\n", last_ckpt);
            }
        }
        if (want_eval) tf_coord_eval(tr); /* every rank: the FID hook is collective */
        if (tr->rank == 0) fflush(stdout);
        if (stop) break;
    }
    tf_watchdog_disarm();
    if (tr->rank == 0) {
        tf_progress_done(stdout);
        const char *ck = last_saved == tr->st.step ? last_ckpt : "";
        if (rc != TF_EXIT_OK) {
            /* too many non-finite steps: said in the loop */
        } else if (!ck[0]) {
            fprintf(stderr, "[rank 0] error: the checkpoint of step %lld could not be saved (see the warning above)\n",
                    (long long)tr->st.step);
            rc = TF_EXIT_FAILURE;
        } else if (stop) {
            printf("stopped by %s at step %lld of %lld: checkpoint %s\n  resume: tinyflow train ... "
                   "trainer.out_dir=%s trainer.resume=auto\n",
                   tf_signal_name(stop), (long long)tr->st.step, (long long)tr->total_steps, ck, run_dir);
            write_stopped(tr, stop, ck);
        } else {
            printf("done: %lld steps in %.1f s (%lld skipped)\n  run dir:     %s\n  checkpoints: %s\n  report:      %s/report.html\n"
                   "  samples:     %s/samples/\n  metrics:     %s/metrics.jsonl, %s/mlruns, %s/tb\n",
                   (long long)tr->st.step, tf_train_now() - tr->t_start, (long long)tr->st.skipped, run_dir,
                   tr->ckpt_dir, run_dir, run_dir, run_dir, run_dir, run_dir);
        }
        tf_coord_close(tr, rc != TF_EXIT_OK ? TF_RUN_FAILED : stop ? TF_RUN_KILLED : TF_RUN_FINISHED);
        fflush(stdout);
    }
    if (tr->rank != 0) tf_coord_close(tr, TF_RUN_FINISHED); /* frees the FID sampler; no tracker here */
    tf_watchdog_stop();
    tf_signals_restore();
    tf_loader_free(tr->loader);
    tf_dataset_free(tr->ds);
    tf_train_step_free(tr);
    if (tr->dev) tr->dev->free(tr);
    tf_train_state_free(&tr->st);
    free(tr->cfg_text);
    free(tr);
    return rc;
}
