/* coord.c - what rank 0 of the trainer records: the tracker (metrics.jsonl, MLflow, TensorBoard,
 * report.html) with the flattened resolved config as params, console progress at each log
 * step, and the evaluation (a sample grid from fixed noise with the EMA weights, the FID hook).
 * Must not know about MPI or the training step's internals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "track/progress.h"
#include "train/fault.h"
#include "train/train_internal.h"

static TfEvalHook g_fid_hook = NULL; /* filled by the evaluation issue (src/eval/fid*); NULL: no FID */
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
    /* the sampler serves the grid and (as the model to sample) the FID hook */
    if (tr->o.eval_every > 0 && (tr->o.eval_n > 0 || (g_fid_hook && tr->o.fid_samples > 0))) {
        tf_sampler_init(&tr->eval, &tr->o, tr->be, (int)(tr->o.eval_n > 0 ? tr->o.eval_n : 1));
        tr->eval_ready = 1;
        if (tr->o.is_toy) tr->raster = tf_malloc(128 * 128 * sizeof(float));
    }
    if (tr->o.fid_samples > 0 && tr->o.eval_every > 0 && !g_fid_hook)
        printf("note: eval.fid_samples = %lld but no FID evaluator is linked into this build: no FID is logged\n",
               (long long)tr->o.fid_samples);
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

void tf_coord_eval(TfTrainer *tr) {
    if (!tr->eval_ready) return;
    const TfTrainState *st = &tr->st;
    double t0 = tf_train_now();
    const float *w = tr->o.use_ema && st->ema ? st->ema : st->tape.param;
    tf_sampler_load(&tr->eval, w, st->n);
    double sleep_s = 0;
    if (tf_train_fault(TF_FAULT_EVALSLEEP, tr->rank, st->step, &sleep_s)) {
        struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - floor(sleep_s)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0) {}
    }
    TfSolveStats ss;
    memset(&ss, 0, sizeof ss);
    int logged = 0;
    if (tr->o.eval_n > 0) {
        tf_sampler_run(&tr->eval, tr->o.seed, &ss);
        if (tr->o.is_toy) {
            tf_raster_points(tr->eval.x, tr->eval.n, 4.0f, 128, tr->raster);
            tf_tracker_log_image(tr->tracker, st->step, "samples", tr->raster, 1, 1, 128, 128, 1, 1);
        } else if (tr->o.grid_rows > 0) {
            tf_tracker_log_image(tr->tracker, st->step, "samples", tr->eval.x, tr->o.grid_rows * tr->o.grid_cols, tr->C,
                                 tr->H, tr->W, tr->o.grid_rows, tr->o.grid_cols);
        }
        logged = 1;
    }
    const char *keys[3] = {"eval_nfe", "eval_seconds", "fid"};
    double vals[3] = {(double)ss.nfe, tf_train_now() - t0, NAN};
    int nk = 2;
    if (g_fid_hook && tr->o.fid_samples > 0) {
        TfEvalRequest rq = {tr->eval.model, &tr->eval.opts, &tr->eval.grid, tr->o.model.num_classes, tr->o.fid_samples,
                            tr->o.seed, st->step, tr->o.dataset, tr->o.root, tr->C, tr->H, tr->W};
        double fid;
        if (g_fid_hook(g_fid_ctx, &rq, &fid) == 0) {
            vals[2] = fid;
            nk = 3;
        } else {
            fprintf(stderr, "[rank 0] warning: the FID evaluation at step %lld failed; no value logged\n",
                    (long long)st->step);
        }
        vals[1] = tf_train_now() - t0;
    }
    if (logged || nk == 3) tf_tracker_log_scalars(tr->tracker, st->step, keys, vals, nk);
    tf_tracker_write_report(tr->tracker);
    printf("eval at step %lld: %d samples, %s %d steps%s, NFE %ld, %.1f s%s\n", (long long)st->step, tr->eval.n,
           tf_solver_name(tr->o.solver), tr->o.solver_steps, tr->eval.guided ? " with guidance" : "", ss.nfe,
           tf_train_now() - t0, tr->o.use_ema && st->ema ? " (EMA weights)" : "");
}

void tf_coord_close(TfTrainer *tr, TfRunStatus status) {
    if (tr->eval_ready) tf_sampler_free(&tr->eval);
    tr->eval_ready = 0;
    free(tr->raster);
    tr->raster = NULL;
    if (tr->tracker) tf_tracker_close(tr->tracker, status);
    tr->tracker = NULL;
}
