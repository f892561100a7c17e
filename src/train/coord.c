/* coord.c - what rank 0 of the trainer records: the tracker (metrics.jsonl, MLflow, TensorBoard,
 * report.html) with the flattened resolved config as params, console progress at each log
 * step, and the evaluation: a sample grid from fixed noise with the EMA weights (rank 0), and
 * the FID hook (every rank: it is collective; rank 0 logs what it returns). The hook's progress
 * callback re-arms the watchdog, so a long FID never trips it. Samplers run on the CPU backend
 * from the host weights (st->param_host / ema: the trainer copies a GPU's state there first).
 * Must not know about MPI, metrics or the training step's internals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "dist/watchdog.h"
#include "track/progress.h"
#include "train/fault.h"
#include "train/train_internal.h"

static TfEvalHook g_fid_hook = NULL; /* set by the command line (src/cli/cmd_train.c); NULL: no FID */
static void *g_fid_ctx = NULL;

void tf_train_set_fid_hook(TfEvalHook hook, void *ctx) {
    g_fid_hook = hook;
    g_fid_ctx = ctx;
}

/* ---- params: the resolved config flattened to dotted keys ------------------------------- */
typedef struct {
    char **keys, **values;
    int n, cap;
} Flat;

static void scalar_text(const TfCfgNode *v, char *buf, size_t cap) {
    switch (v->type) {
    case TF_NODE_NULL: snprintf(buf, cap, "null"); break;
    case TF_NODE_BOOL: snprintf(buf, cap, "%s", v->b ? "true" : "false"); break;
    case TF_NODE_INT: snprintf(buf, cap, "%lld", (long long)v->i); break;
    case TF_NODE_FLOAT: /* shortest of %.15g / %.17g that reads back exactly: 0.1, not 0.10000000000000001 */
        snprintf(buf, cap, "%.15g", v->f);
        if (strtod(buf, NULL) != v->f) snprintf(buf, cap, "%.17g", v->f);
        break;
    case TF_NODE_STR: snprintf(buf, cap, "%s", v->s); break;
    case TF_NODE_MISSING: snprintf(buf, cap, "???"); break;
    case TF_NODE_LIST: {
        size_t o = (size_t)snprintf(buf, cap, "[");
        for (size_t i = 0; i < v->n && o < cap; i++) {
            char item[128];
            scalar_text(v->items[i], item, sizeof item);
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", item);
        }
        if (o < cap) snprintf(buf + o, cap - o, "]");
        break;
    }
    case TF_NODE_DICT: snprintf(buf, cap, "{...}"); break;
    }
}

static void flatten(const TfCfgNode *n, const char *prefix, Flat *f) {
    if (n->type == TF_NODE_DICT) {
        for (size_t i = 0; i < n->n; i++) {
            char key[512];
            snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", n->keys[i]);
            flatten(n->items[i], key, f);
        }
        return;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        char **k = tf_calloc((size_t)f->cap, sizeof *k), **v = tf_calloc((size_t)f->cap, sizeof *v);
        if (f->n) {
            memcpy(k, f->keys, (size_t)f->n * sizeof *k);
            memcpy(v, f->values, (size_t)f->n * sizeof *v);
        }
        free(f->keys);
        free(f->values);
        f->keys = k;
        f->values = v;
    }
    char val[2048];
    scalar_text(n, val, sizeof val);
    f->keys[f->n] = strdup(prefix);
    f->values[f->n] = strdup(val);
    if (!f->keys[f->n] || !f->values[f->n]) tf_die("out of memory flattening the config");
    f->n++;
}

static void log_params(TfTrainer *tr) {
    TfCfgNode *res = NULL;
    TfCfgError err;
    if (tf_cfg_resolve_tree(tf_cfg_root(tr->cfg), &res, &err)) tf_die_usage(err.hint, "%s", err.msg);
    Flat f = {0};
    flatten(res, "", &f);
    tf_tracker_log_params(tr->tracker, (const char *const *)f.keys, (const char *const *)f.values, f.n);
    for (int i = 0; i < f.n; i++) {
        free(f.keys[i]);
        free(f.values[i]);
    }
    free(f.keys);
    free(f.values);
    tf_node_free(res);
}

void tf_coord_open(TfTrainer *tr, int resumed) {
    TfTrackerOptions to = tf_tracker_defaults();
    to.run_dir = tr->run_dir;
    const char *exp = tf_cfg_choice(tr->cfg, "experiment");
    to.experiment = exp ? exp : "tinyflow";
    to.source_name = "tinyflow train";
    to.resume_step = resumed ? tr->st.step : 0;
    tr->tracker = tf_tracker_open(&to);
    log_params(tr);
    /* the sampler of the grid (the FID hook gets its own, on every rank: fid_eval) */
    if (tr->o.eval_every > 0 && tr->o.eval_n > 0) {
        tf_sampler_init(&tr->eval, &tr->o, tf_backend_cpu(), (int)tr->o.eval_n); /* host weights, any device */
        tr->eval_ready = 1;
        if (tr->o.is_toy) tr->raster = tf_malloc(128 * 128 * sizeof(float));
    }
}

void tf_coord_log(TfTrainer *tr, double loss) {
    double now = tf_train_now(), dt = now - tr->win_t0;
    double rate = dt > 0 ? (double)tr->win_steps * (double)tr->o.batch / dt : 0.0;
    const TfTrainState *st = &tr->st;
    const char *keys[6] = {"loss", "lr", "grad_norm", "images_per_s", "epoch", "skipped_steps"};
    double vals[6] = {loss, tr->last_lr, tr->last_grad_norm, rate, (double)tr->epoch, (double)st->skipped};
    tf_tracker_log_scalars(tr->tracker, st->step, keys, vals, 6);
    TfProgress p;
    memset(&p, 0, sizeof p);
    p.epoch = (int)tr->epoch;
    p.step = st->step;
    p.total_steps = tr->total_steps;
    p.start_step = tr->start_step;
    p.loss = loss;
    p.lr = tr->last_lr;
    p.grad_norm = tr->last_grad_norm;
    p.images_per_s = rate;
    p.elapsed_s = now - tr->t_start;
    /* mpirun gives ranks a pseudo-terminal even when its own output is a file: redraw in place
     * only for a plain process on a terminal */
    if (tr->world == 1) {
        tf_progress_print(stdout, &p);
    } else {
        char line[512];
        tf_progress_format(line, sizeof line, &p, 0);
        fputs(line, stdout);
        fflush(stdout);
    }
}

static void fid_progress(void *ctx, int64_t done, int64_t total) {
    (void)done, (void)total;
    const TfTrainer *tr = ctx;
    tf_watchdog_arm(tr->o.eval_timeout, "FID evaluation after step", tr->st.step);
}

/* Every rank: the FID hook on an inference tape of its own holding the evaluation weights.
 * Returns 1 and fills *v when the hook gave values. */
static int fid_eval(TfTrainer *tr, TfEvalValues *v) {
    const TfTrainState *st = &tr->st;
    const float *w = tr->o.use_ema && st->ema ? st->ema : st->param_host;
    if (!tr->fid_ready) { /* 64 rows per model call (128 with guidance); built once: tapes are big */
        tf_sampler_init(&tr->fid, &tr->o, tf_backend_cpu(), 64);
        tr->fid_ready = 1;
        fid_progress(tr, 0, tr->o.fid_samples); /* building it can take seconds */
    }
    TfSampler *s = &tr->fid;
    tf_sampler_load(s, w, st->n);
    TfEvalRequest rq = {s->model, &s->opts, &s->grid, tr->o.model.num_classes, tr->o.fid_samples, tr->o.seed, st->step,
                        tr->o.dataset, tr->o.root, tr->C, tr->H, tr->W, tr->rank, tr->world, fid_progress, tr};
    memset(v, 0, sizeof *v);
    int ok = g_fid_hook(g_fid_ctx, &rq, v) == 0;
    if (!ok && tr->rank == 0)
        fprintf(stderr, "[rank 0] warning: the FID evaluation at step %lld failed; no value logged\n", (long long)st->step);
    return ok;
}

void tf_coord_eval(TfTrainer *tr) {
    const int fid_on = g_fid_hook && tr->o.fid_samples > 0;
    TfEvalValues fv;
    if (tr->rank != 0) { /* only the FID's share */
        if (fid_on) fid_eval(tr, &fv);
        return;
    }
    if (!tr->eval_ready && !fid_on) return;
    const TfTrainState *st = &tr->st;
    double t0 = tf_train_now();
    double sleep_s = 0;
    if (tf_train_fault(TF_FAULT_EVALSLEEP, tr->rank, st->step, &sleep_s)) {
        struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - floor(sleep_s)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0) {}
    }
    TfSolveStats ss;
    memset(&ss, 0, sizeof ss);
    int logged = 0;
    if (tr->eval_ready) {
        const float *w = tr->o.use_ema && st->ema ? st->ema : st->param_host;
        tf_sampler_load(&tr->eval, w, st->n);
        tf_sampler_run(&tr->eval, tr->o.seed, NULL, &ss);
        if (tr->o.is_toy) {
            tf_raster_points(tr->eval.x, tr->eval.n, 4.0f, 128, tr->raster);
            tf_tracker_log_image(tr->tracker, st->step, "samples", tr->raster, 1, 1, 128, 128, 1, 1);
        } else if (tr->o.grid_rows > 0) {
            tf_tracker_log_image(tr->tracker, st->step, "samples", tr->eval.x, tr->o.grid_rows * tr->o.grid_cols, tr->C,
                                 tr->H, tr->W, tr->o.grid_rows, tr->o.grid_cols);
        }
        logged = 1;
    }
    const char *keys[2 + TF_EVAL_MAX_VALUES] = {"eval_nfe", "eval_seconds"};
    double vals[2 + TF_EVAL_MAX_VALUES] = {(double)ss.nfe, tf_train_now() - t0};
    int nk = logged ? 2 : 0, nfid = 0;
    char fid_text[256] = "";
    if (fid_on && fid_eval(tr, &fv)) {
        if (!logged) keys[0] = "eval_seconds", nk = 1;
        size_t o = 0;
        for (int i = 0; i < fv.n && i < TF_EVAL_MAX_VALUES; i++) {
            if (!isfinite(fv.values[i])) continue;
            keys[nk] = fv.keys[i];
            vals[nk++] = fv.values[i];
            nfid++;
            if (o < sizeof fid_text)
                o += (size_t)snprintf(fid_text + o, sizeof fid_text - o, ", %s %.4g", fv.keys[i], fv.values[i]);
        }
        vals[logged ? 1 : 0] = tf_train_now() - t0;
    }
    if (nk > 0) tf_tracker_log_scalars(tr->tracker, st->step, keys, vals, nk);
    tf_tracker_write_report(tr->tracker);
    if (logged)
        printf("eval at step %lld: %d samples, %s %d steps%s, NFE %ld, %.1f s%s%s\n", (long long)st->step, tr->eval.n,
               tf_solver_name(tr->o.solver), tr->o.solver_steps, tr->eval.guided ? " with guidance" : "", ss.nfe,
               tf_train_now() - t0, tr->o.use_ema && st->ema ? " (EMA weights)" : "", fid_text);
    else if (nfid)
        printf("eval at step %lld: %lld FID samples, %.1f s%s\n", (long long)st->step, (long long)tr->o.fid_samples,
               tf_train_now() - t0, fid_text);
}

void tf_coord_close(TfTrainer *tr, TfRunStatus status) {
    if (tr->eval_ready) tf_sampler_free(&tr->eval);
    tr->eval_ready = 0;
    if (tr->fid_ready) tf_sampler_free(&tr->fid);
    tr->fid_ready = 0;
    free(tr->raster);
    tr->raster = NULL;
    if (tr->tracker) tf_tracker_close(tr->tracker, status);
    tr->tracker = NULL;
}
