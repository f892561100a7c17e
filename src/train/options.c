/* options.c - config keys -> TfTrainOpts (options.h). The one file of src/train that knows
 * key names. Must not know about MPI, files or the training loop. */
#include "train/options.h"

#include <string.h>

#include "core/check.h"
#include "data/dataset.h"
#include "eval/eval_config.h"

static int64_t geti(const TfCfg *c, const char *k, int64_t dflt) {
    return tf_cfg_has(c, k) ? tf_cfg_get_int(c, k) : dflt;
}
static double getf(const TfCfg *c, const char *k, double dflt) {
    return tf_cfg_has(c, k) ? tf_cfg_get_float(c, k) : dflt;
}

static void read_model(const TfCfg *c, TfModelConfig *m) {
    memset(m, 0, sizeof *m);
    const char *name = tf_cfg_get_str(c, "model.name");
    if (!strcmp(name, "unet")) m->kind = TF_MODEL_UNET;
    else if (!strcmp(name, "mlp")) m->kind = TF_MODEL_MLP;
    else tf_die_usage("train a velocity field: model=unet (images) or model=mlp (2-D toy data)",
                      "model.name = %s cannot be trained as a flow-matching model", name);
    m->in_ch = (int)tf_cfg_get_int(c, "model.in_ch");
    m->image_size = (int)tf_cfg_get_int(c, "model.image_size");
    m->num_classes = (int)tf_cfg_get_int(c, "model.num_classes");
    m->dropout = (float)tf_cfg_get_float(c, "model.dropout");
    m->zero_init = tf_cfg_get_bool(c, "model.zero_init");
    m->temb_dim = (int)geti(c, "model.temb_dim", 0);
    m->heads = 1;
    if (m->kind == TF_MODEL_UNET) {
        int64_t v[TF_MAX_LEVELS];
        m->base_ch = (int)tf_cfg_get_int(c, "model.base_ch");
        m->n_mult = (int)tf_cfg_get_int_list(c, "model.ch_mult", v, TF_MAX_LEVELS);
        for (int i = 0; i < m->n_mult; i++) m->ch_mult[i] = (int)v[i];
        m->n_attn = (int)tf_cfg_get_int_list(c, "model.attn_res", v, TF_MAX_LEVELS);
        for (int i = 0; i < m->n_attn; i++) m->attn_res[i] = (int)v[i];
        m->num_res_blocks = (int)tf_cfg_get_int(c, "model.num_res_blocks");
        m->groups = (int)tf_cfg_get_int(c, "model.groups");
        m->heads = (int)tf_cfg_get_int(c, "model.heads");
    } else {
        m->hidden = (int)tf_cfg_get_int(c, "model.hidden");
        m->layers = (int)tf_cfg_get_int(c, "model.layers");
    }
    tf_model_config_validate(m);
}

TfScheduler tf_train_scheduler(const TfCfg *c, const char *name, const char *key) {
    const char *path = tf_cfg_has(c, "path.scheduler") ? tf_cfg_get_str(c, "path.scheduler") : "condot";
    double smin = !strcmp(path, "condot") ? getf(c, "path.sigma_min", 0.0) : 0.0;
    if (!strcmp(name, "condot")) return smin > 0 ? tf_scheduler_ot(smin) : tf_scheduler_condot();
    if (!strcmp(name, "polynomial")) return tf_scheduler_polynomial(getf(c, "path.n", 2.0));
    if (!strcmp(name, "cosine")) return tf_scheduler_cosine();
    if (!strcmp(name, "lvp")) return tf_scheduler_linear_vp();
    if (!strcmp(name, "vp")) return tf_scheduler_vp(getf(c, "path.beta_min", 0.1), getf(c, "path.beta_max", 20.0));
    tf_die_usage("use condot, polynomial, cosine, lvp or vp", "%s = '%s' is not a scheduler", key, name);
}

int tf_train_sampling_scheduler(const TfCfg *c, TfSolverKind solver, TfScheduler *out) {
    if (!tf_cfg_has(c, "eval.solver.scheduler")) return 0;
    const char *name = tf_cfg_get_str(c, "eval.solver.scheduler");
    *out = tf_train_scheduler(c, name, "eval.solver.scheduler");
    int vp = !strcmp(name, "lvp") || !strcmp(name, "vp");
    int ends = solver == TF_SOLVER_HEUN || solver == TF_SOLVER_RK4 || solver == TF_SOLVER_RK4_38 || solver == TF_SOLVER_DOPRI5;
    if (vp && ends)
        tf_die_usage("sample a VP-type scheduler with euler, midpoint, edm_heun or ddim (they never evaluate the end point)",
                     "eval.solver.scheduler = %s: the schedule transform is infinite at r = 1, where %s evaluates the field",
                     name, tf_solver_name(solver));
    return 1;
}

static void read_path(const TfCfg *c, TfTrainOpts *o) {
    TfFlowBatchSpec *f = &o->flow;
    *f = tf_flow_batch_spec();
    const char *s = tf_cfg_get_str(c, "path.scheduler");
    double smin = getf(c, "path.sigma_min", 0.0);
    if (strcmp(s, "condot") && smin != 0.0)
        tf_die_usage("path.sigma_min applies to path=condot only; set it to 0",
                     "path.sigma_min = %g is not supported with path.scheduler = %s", smin, s);
    f->sched = tf_train_scheduler(c, s, "path.scheduler");
    const char *ts = tf_cfg_get_str(c, "path.time_sampling");
    f->time = !strcmp(ts, "logit_normal")
                  ? tf_time_logit_normal(tf_cfg_get_float(c, "path.logit_mean"), tf_cfg_get_float(c, "path.logit_std"))
                  : tf_time_uniform();
    double clip = tf_cfg_get_float(c, "path.clip");
    if (clip > 0) f->time = tf_time_clip(f->time, clip, 1.0 - clip);
    f->coupling = !strcmp(tf_cfg_get_str(c, "path.coupling"), "ot") ? TF_COUPLING_OT : TF_COUPLING_INDEPENDENT;
    o->ot_global = f->coupling == TF_COUPLING_OT && !strcmp(tf_cfg_get_str(c, "path.ot_scope"), "global");
    f->num_classes = o->model.num_classes;
    f->label_drop = o->model.num_classes > 0 ? tf_cfg_get_float(c, "path.label_dropout") : 0.0;
}

static void read_solver(const TfCfg *c, TfTrainOpts *o) {
    const char *name = tf_cfg_has(c, "eval.solver.name") ? tf_cfg_get_str(c, "eval.solver.name")
                                                           : tf_cfg_get_str(c, "solver.name");
    if (tf_solver_parse(name, &o->solver)) tf_die_usage("see docs/config.md (solver)", "unknown solver '%s'", name);
    o->solver_steps = (int)(tf_cfg_has(c, "eval.solver.steps") ? tf_cfg_get_int(c, "eval.solver.steps")
                                                                : tf_cfg_get_int(c, "solver.steps"));
    o->guidance = tf_cfg_has(c, "eval.solver.guidance") ? tf_cfg_get_float(c, "eval.solver.guidance")
                                                        : tf_cfg_get_float(c, "solver.guidance");
    tf_eval_guidance_interval(c, o->guidance_interval);
    o->edm_grid = !strcmp(tf_cfg_get_str(c, "solver.grid"), "edm");
    o->atol = tf_cfg_get_float(c, "solver.atol");
    o->rtol = tf_cfg_get_float(c, "solver.rtol");
    if (o->edm_grid && o->solver_steps < 2) tf_die_usage("use solver.steps >= 2 with solver.grid=edm", "edm grid of 1 step");
    o->sample_transform = tf_train_sampling_scheduler(c, o->solver, &o->sample_sched);
    o->trajectory = (int)geti(c, "eval.trajectory", 0);
    if (o->trajectory == 1) tf_die_usage("use eval.trajectory >= 2 (noise and sample at least) or 0", "eval.trajectory = 1");
    if (o->trajectory > 0 && o->solver == TF_SOLVER_DOPRI5)
        tf_die_usage("use a fixed-step solver (euler, midpoint, heun, rk4, ddim) for eval.trajectory",
                     "eval.trajectory: dopri5 keeps no intermediate states on its grid");
}

void tf_train_opts_read(const TfCfg *c, TfTrainOpts *o) {
    memset(o, 0, sizeof *o);
    read_model(c, &o->model);
    o->dataset = tf_cfg_get_str(c, "dataset.name");
    int kind = tf_data_kind(o->dataset);
    if (kind < 0) tf_die_usage("see docs/config.md (dataset)", "unknown dataset '%s'", o->dataset);
    o->is_toy = tf_data_is_toy((TfDataKind)kind);
    o->root = tf_cfg_has(c, "dataset.root") ? tf_cfg_get_str(c, "dataset.root") : ".";
    o->split = tf_cfg_get_str(c, "dataset.split");
    o->n_samples = geti(c, "dataset.n_samples", 0);
    o->hflip = tf_cfg_get_bool(c, "dataset.hflip");
    o->dequantize = tf_cfg_has(c, "dataset.dequantize") && tf_cfg_get_bool(c, "dataset.dequantize");
    o->prefetch = (int)tf_cfg_get_int(c, "dataset.prefetch");
    o->batch = tf_cfg_get_int(c, "dataset.batch_size");
    read_path(c, o);

    const char *opt = tf_cfg_get_str(c, "optim.name");
    double betas[2];
    tf_cfg_get_float_list(c, "optim.betas", betas, 2);
    o->adam.kind = !strcmp(opt, "adamw") ? TF_OPTIM_ADAMW : TF_OPTIM_ADAM;
    o->adam.beta1 = (float)betas[0];
    o->adam.beta2 = (float)betas[1];
    o->adam.eps = (float)tf_cfg_get_float(c, "optim.eps");
    o->adam.weight_decay = (float)tf_cfg_get_float(c, "optim.weight_decay");
    o->grad_clip = tf_cfg_is_null(c, "optim.grad_clip") ? 0.0 : tf_cfg_get_float(c, "optim.grad_clip");
    const char *ls = tf_cfg_get_str(c, "lr_schedule.name");
    if (tf_lr_decay_parse(ls, &o->lr.decay)) tf_die_usage("see docs/config.md (lr_schedule)", "unknown lr_schedule '%s'", ls);
    o->lr.lr = tf_cfg_get_float(c, "optim.lr");
    o->lr.min_lr = getf(c, "lr_schedule.min_lr", 0.0);
    o->lr.warmup = tf_cfg_get_int(c, "lr_schedule.warmup_steps");
    o->lr.step_size = geti(c, "lr_schedule.step_size", 1);
    o->lr.gamma = getf(c, "lr_schedule.gamma", 1.0);

    o->seed = (uint64_t)tf_cfg_get_int(c, "trainer.seed");
    o->steps = tf_cfg_is_null(c, "trainer.steps") ? 0 : tf_cfg_get_int(c, "trainer.steps");
    o->epochs = tf_cfg_is_null(c, "trainer.epochs") ? 0 : tf_cfg_get_int(c, "trainer.epochs");
    o->micro_batch = tf_cfg_is_null(c, "trainer.micro_batch") ? 0 : tf_cfg_get_int(c, "trainer.micro_batch");
    o->threads = tf_cfg_is_null(c, "trainer.threads") ? 0 : (int)tf_cfg_get_int(c, "trainer.threads");
    o->log_every = tf_cfg_get_int(c, "trainer.log_every");
    o->ckpt_every = tf_cfg_get_int(c, "trainer.ckpt_every");
    o->keep_last = tf_cfg_get_int(c, "trainer.keep_last");
    o->keep_every = tf_cfg_get_int(c, "trainer.keep_every");
    o->resume = tf_cfg_get_str(c, "trainer.resume");
    o->ema_decay = tf_cfg_get_float(c, "trainer.ema_decay");
    o->max_skips = tf_cfg_get_int(c, "trainer.max_skips");
    o->step_timeout = getf(c, "trainer.step_timeout", 600.0);
    o->eval_timeout = getf(c, "trainer.eval_timeout", 3600.0);
    if (o->eval_timeout > 0 && o->eval_timeout < o->step_timeout) o->eval_timeout = o->step_timeout;
    o->device = tf_cfg_has(c, "trainer.device") ? tf_cfg_get_str(c, "trainer.device") : "cpu";

    o->eval_every = tf_cfg_get_int(c, "eval.every");
    o->eval_n = tf_cfg_get_int(c, "eval.n_samples");
    o->fid_samples = tf_cfg_get_int(c, "eval.fid_samples");
    o->grid_rows = (int)tf_cfg_get_int(c, "eval.grid_rows");
    o->grid_cols = (int)tf_cfg_get_int(c, "eval.grid_cols");
    o->use_ema = tf_cfg_get_bool(c, "eval.use_ema");
    read_solver(c, o);
}
