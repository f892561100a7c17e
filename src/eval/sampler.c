/* sampler.c - keyed generation from a flow-model tape (with optional classifier-free
 * guidance) and bits per dimension through the likelihood ODE (see sampler.h).
 * Must not know about MPI, files or metrics. */
#include "eval/sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "flow/draw.h"
#include "flow/likelihood.h"

TfGrid tf_eval_sampler_grid(const TfEvalSampleOpts *o) {
    if (o->solver == TF_SOLVER_DOPRI5) return tf_grid_uniform(0.0, 1.0, 1);
    if (o->edm_grid) return tf_grid_edm(o->steps < 2 ? 2 : o->steps, 0.002, 80.0, 7.0);
    return tf_grid_uniform(0.0, 1.0, o->steps);
}

TfSolverOpts tf_eval_sampler_solver_opts(const TfEvalSampleOpts *o) {
    TfSolverOpts so = tf_solver_opts(o->solver);
    if (o->solver == TF_SOLVER_DOPRI5) {
        if (o->atol > 0) so.atol = o->atol;
        if (o->rtol > 0) so.rtol = o->rtol;
        so.max_steps = o->steps;
    }
    return so;
}

void tf_eval_sampler_init(TfEvalSampler *s, const TfModelConfig *mc, const TfEvalSampleOpts *o) {
    memset(s, 0, sizeof *s);
    if (mc->kind == TF_MODEL_CLASSIFIER) tf_die_usage("give the checkpoint of a flow model (unet or mlp)", "cannot sample from a classifier");
    if (o->batch < 1) tf_die_usage("use a positive eval.batch_size", "sampling batch %d", o->batch);
    s->mc = *mc;
    s->o = *o;
    s->guided = mc->num_classes > 0 && o->guidance != 1.0f;
    tf_model_build(&s->tape, mc, tf_backend_cpu(), s->guided ? 2 * o->batch : o->batch, TF_BUILD_INFERENCE, 0, NULL);
    tf_tape_velocity_init(&s->tv, &s->tape, mc->num_classes);
    s->field = &s->tv.model;
    if (s->guided) {
        tf_guidance_init(&s->cfg, &s->tv.model, o->guidance - 1.0f, mc->num_classes, o->batch);
        tf_guidance_set_interval(&s->cfg, o->guidance_interval[0], o->guidance_interval[1]);
        s->field = &s->cfg.model;
    }
    if (o->transform) { /* affine in the field: commutes with guidance */
        tf_schedule_transform_init(&s->st, s->field, &s->o.sched, &s->o.target, o->batch);
        s->field = &s->st.model;
    }
    s->so = tf_eval_sampler_solver_opts(o);
    s->so.ddim_sched = o->transform ? &s->o.target : &s->o.sched;
    s->grid = tf_eval_sampler_grid(o);
}

void tf_eval_sampler_run(TfEvalSampler *s, int64_t first, int n, float *x, int *labels) {
    const int D = tf_model_sample_dim(&s->mc), K = s->mc.num_classes;
    const int chunk = 4 * s->o.batch;
    int *lab = K > 0 ? tf_malloc(sizeof(int) * (size_t)chunk) : NULL;
    void *work = tf_malloc(tf_sample_workspace_bytes(s->o.solver, chunk, D));
    for (int i0 = 0; i0 < n; i0 += chunk) {
        const int m = n - i0 < chunk ? n - i0 : chunk;
        float *xc = x + (size_t)i0 * D;
        tf_draw_noise(TF_STREAM_SAMPLE, s->o.seed, 0, (uint64_t)(first + i0), m, D, xc);
        for (int i = 0; i < m; i++) {
            int l = K > 0 ? (int)((first + i0 + i) % K) : -1;
            if (lab) lab[i] = l;
            if (labels) labels[i0 + i] = l;
        }
        TfSolveStats st;
        tf_sample(s->field, &s->so, &s->grid, m, lab, xc, NULL, &st, work);
        s->stats.nfe += st.nfe;
        s->stats.steps += st.steps;
        s->stats.rejected += st.rejected;
    }
    free(work);
    free(lab);
}

void tf_eval_sampler_free(TfEvalSampler *s) {
    if (s->o.transform) tf_schedule_transform_free(&s->st);
    if (s->guided) tf_guidance_free(&s->cfg);
    tf_grid_free(&s->grid);
    tf_tape_free(&s->tape);
    memset(s, 0, sizeof *s);
}

void tf_eval_bpd(TfTape *tp, const TfModelConfig *mc, const TfEvalBpdOpts *o, const TfDataset *ds, int64_t first,
                 int64_t n, double *bpd, TfSolveStats *stats) {
    const int D = tf_model_sample_dim(mc), B = tp->batch, K = mc->num_classes;
    if (ds->c * ds->h * ds->w != D)
        tf_die_usage("score the dataset the model was trained on", "model takes %d numbers per sample, %s has %d", D,
                     ds->name, ds->c * ds->h * ds->w);
    if (o->sample.solver == TF_SOLVER_DDIM) tf_die_usage("use another solver (dopri5, rk4, ...)", "the likelihood ODE cannot use DDIM");
    TfTapeVelocity tv;
    tf_tape_velocity_init(&tv, tp, K);
    TfLikelihoodOpts lo = tf_likelihood_opts();
    lo.solver = tf_eval_sampler_solver_opts(&o->sample);
    lo.exact = o->exact;
    lo.num_probes = o->probes > 0 ? o->probes : 1;
    lo.probe_seed = o->sample.seed;
    TfGrid g = tf_eval_sampler_grid(&o->sample);
    tf_grid_reverse(&g); /* data (t = 1) -> noise (t = 0) */
    float *x = tf_malloc(sizeof(float) * (size_t)B * D);
    double *logp = tf_malloc(sizeof(double) * (size_t)B);
    int *lab = tf_malloc(sizeof(int) * (size_t)B);
    const double scale = 1.0 / 127.5;
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int m = n - i0 < B ? (int)(n - i0) : B;
        const int64_t e0 = first + i0;
        if (ds->pixels)
            tf_draw_dequantize_u8(o->sample.seed, 0, (uint64_t)e0, m, D, ds->pixels + (size_t)e0 * D, scale, x);
        else
            memcpy(x, ds->values + (size_t)e0 * D, sizeof(float) * (size_t)m * D);
        for (int i = 0; i < m; i++) lab[i] = K > 0 ? ds->labels[e0 + i] : 0;
        lo.first = (uint64_t)e0;
        TfSolveStats st;
        tf_log_likelihood(&tv.model, &lo, &g, m, K > 0 ? lab : NULL, x, logp, &st);
        for (int i = 0; i < m; i++)
            bpd[i0 + i] = ds->pixels ? tf_bits_per_dim(logp[i], D, scale) : -logp[i] / (D * log(2.0));
        if (stats) stats->nfe += st.nfe, stats->steps += st.steps, stats->rejected += st.rejected, stats->vjps += st.vjps;
    }
    tf_grid_free(&g);
    free(x); free(logp); free(lab);
}

int tf_eval_fid_model(const TfEvalContext *ctx, const TfVelocityModel *m, const TfSolverOpts *so, const TfGrid *g,
                      int num_classes, int64_t n, uint64_t seed, int chunk, const TfReducer *red,
                      TfEvalProgress progress, void *progress_ctx, TfEvalResult *out, char *err, size_t cap) {
    const int rank = red ? red->rank : 0, world = red && red->world > 1 ? red->world : 1, D = m->dim;
    const TfModelConfig *c = &ctx->clf->cfg;
    if (D != tf_model_sample_dim(c)) {
        snprintf(err, cap, "the model makes samples of %d numbers, the classifier takes %dx%dx%d images", D, c->in_ch,
                 c->image_size, c->image_size);
        return -1;
    }
    if (chunk <= 0) chunk = 1000;
    const int64_t lo = n * rank / world, hi = n * (rank + 1) / world;
    float *x = tf_malloc(sizeof(float) * (size_t)chunk * D);
    int *lab = num_classes > 0 ? tf_malloc(sizeof(int) * (size_t)chunk) : NULL;
    void *work = tf_malloc(tf_sample_workspace_bytes(so->kind, chunk, D));
    TfEvalShard sh;
    tf_eval_shard_init(&sh, ctx);
    for (int64_t i0 = lo; i0 < hi; i0 += chunk) {
        const int k = hi - i0 < chunk ? (int)(hi - i0) : chunk;
        tf_draw_noise(TF_STREAM_SAMPLE, seed, 0, (uint64_t)i0, k, D, x);
        for (int i = 0; lab && i < k; i++) lab[i] = (int)((i0 + i) % num_classes);
        tf_sample(m, so, g, k, lab, x, NULL, NULL, work);
        tf_eval_shard_add(ctx, &sh, x, k, lab);
        if (progress) progress(progress_ctx, i0 + k - lo, hi - lo);
    }
    int rc = tf_eval_shard_finish(ctx, &sh, red, out, err, cap);
    tf_eval_shard_free(&sh);
    free(x);
    free(lab);
    free(work);
    return rc;
}
