/* cmd_likelihood.c - `tinyflow likelihood [overrides]`: bits per dimension of dataset.split
 * (eval.likelihood.n examples) under a flow-model checkpoint, through the likelihood ODE with
 * the exact or Hutchinson divergence (src/eval/sampler.h -> flow/likelihood.h). Under mpirun/srun
 * each rank scores a contiguous share of the examples (every draw is keyed by the example's
 * index, so the shares are exactly the one-process values) and the float64 sums are reduced;
 * rank 0 prints and writes. Knows the config keys and eval/'s API; MPI lives in mpi_glue.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/job.h"
#include "cli/mpi_glue.h"
#include "core/check.h"
#include "eval/eval_config.h"
#include "eval/run_model.h"
#include "eval/sampler.h"
#include "track/jsonl.h"

static int run_likelihood(const TfCfg *cfg, const char *run_dir, void *vctx) {
    (void)vctx;
    tf_cli_eval_threads(cfg);
    const TfReducer red = tf_cli_reducer();
    const int rank = red.rank, world = red.world;
    char err[4096];
    const char *path = tf_eval_cfg_str(cfg, "eval.checkpoint");
    if (!path) tf_die_usage("set eval.checkpoint=PATH (a flow-model checkpoint file or folder)", "likelihood: no model");
    TfCkpt *ck = NULL;
    TfRunModel rm;
    if (tf_run_open_checkpoint(path, &ck, err, sizeof err)) tf_die_usage("pass a checkpoint file or its folder", "%s", err);
    if (tf_run_model_from_text(ck->meta.config_text ? ck->meta.config_text : "", &rm, err, sizeof err))
        tf_die_usage("the checkpoint's config text must hold the model: keys of its run", "%s", err);
    const char *split = tf_cfg_get_str(cfg, "dataset.split");
    TfDataset *ds = tf_eval_cfg_dataset(cfg, split);
    TfEvalBpdOpts bo;
    memset(&bo, 0, sizeof bo);
    bo.sample = tf_eval_sample_opts(cfg, &rm.sched);
    bo.exact = tf_cfg_get_bool(cfg, "eval.likelihood.exact");
    bo.probes = (int)tf_cfg_get_int(cfg, "eval.likelihood.probes");
    int64_t n = tf_cfg_has(cfg, "eval.likelihood.n") ? tf_cfg_get_int(cfg, "eval.likelihood.n") : ds->n;
    if (n > ds->n) n = ds->n;
    TfTape tp;
    tf_model_build(&tp, &rm.model, tf_backend_cpu(), bo.sample.batch, TF_BUILD_INPUT_GRAD, 0, NULL);
    const char *group = tf_cfg_get_bool(cfg, "eval.use_ema") ? "ema" : "param";
    if (tf_run_load_params(ck, group, tf_model_kind_name(rm.model.kind), &tp, err, sizeof err))
        tf_die_usage("check eval.checkpoint (and eval.use_ema)", "%s", err);
    const int64_t lo = n * rank / world, hi = n * (rank + 1) / world;
    if (rank == 0)
        printf("likelihood: %lld %s/%s examples under %s (step %llu, %s weights), %s %s divergence, %s %d steps, "
               "%d ranks\n", (long long)n, ds->name, split, ck->path, (unsigned long long)ck->meta.step, group,
               bo.exact ? "exact" : "Hutchinson", bo.exact ? "" : "(probes fixed per example)",
               tf_solver_name(bo.sample.solver), bo.sample.steps, world);
    double *bpd = tf_malloc(sizeof(double) * (size_t)(hi - lo + 1));
    TfSolveStats st;
    memset(&st, 0, sizeof st);
    time_t t0 = time(NULL);
    tf_eval_bpd(&tp, &rm.model, &bo, ds, lo, hi - lo, bpd, &st);
    double sums[4] = {0, 0, (double)(hi - lo), (double)st.nfe};
    for (int64_t i = 0; i < hi - lo; i++) sums[0] += bpd[i], sums[1] += bpd[i] * bpd[i];
    if (world > 1) red.allreduce(red.ctx, sums, 4, TF_REDUCE_SUM);
    const double mean = sums[0] / sums[2], var = sums[1] / sums[2] - mean * mean;
    const double se = sqrt((var > 0 ? var : 0) / (sums[2] > 1 ? sums[2] - 1 : 1));
    if (rank == 0) {
        printf("bits/dim %.4f +- %.4f (standard error over %.0f examples; %s)  NFE %.0f over %d rank(s), "
               "%ld VJP calls and %.0f s on rank 0\n", mean, se, sums[2],
               ds->pixels ? "8-bit data dequantised with U[0,1) noise" : "continuous data", sums[3], world, st.vjps,
               difftime(time(NULL), t0));
        /* A normalised density of 8-bit data cannot exceed probability 1 per bin: bits/dim >= 0
         * up to the estimator's noise. Below that, the number is not a likelihood. */
        if (ds->pixels && mean + 3.0 * se < 0.0)
            printf("likelihood: warning: negative bits/dim is impossible for a density of 8-bit data. The model's "
                   "density is degenerate on the dequantised pixels (it was trained on the 8-bit grid without "
                   "dequantisation noise) or the solver is too coarse (try solver=dopri5); do not report this "
                   "number as a likelihood.\n");
        if (run_dir) {
            char jl[4200];
            snprintf(jl, sizeof jl, "%s/metrics.jsonl", run_dir);
            const char *keys[] = {"bpd", "bpd_se", "n", "ranks"};
            const double vals[] = {mean, se, sums[2], (double)world};
            tf_jsonl_append(jl, (int64_t)ck->meta.step, (double)time(NULL), keys, vals, 4);
        }
    }
    free(bpd);
    tf_tape_free(&tp);
    tf_dataset_free(ds);
    tf_ckpt_free(ck);
    return TF_EXIT_OK;
}

static const TfJobCommand k_likelihood = {
    "likelihood", "bits per dimension of a dataset split under a checkpoint",
    "usage: tinyflow likelihood [options] [overrides]\n\n"
    "Integrates the ODE of eval.checkpoint backwards from the data of dataset.name / dataset.split\n"
    "(eval.likelihood.n examples) to the noise with the divergence -- exact (eval.likelihood.exact,\n"
    "D VJPs per evaluation: small models only) or Hutchinson (eval.likelihood.probes Rademacher probes,\n"
    "fixed along each path) -- and prints the mean bits per dimension. 8-bit images are dequantised\n"
    "(x = (k + u) / 127.5 - 1); conditional models are scored with each example's label.\n"
    "The solver is eval.solver.* or solver.* (dopri5 with solver.atol / solver.rtol is the usual choice).\n"
    "Under mpirun/srun each rank scores a share of the examples; rank 0 prints the reduced mean.\n\n"
    "Examples:\n"
    "  tinyflow likelihood dataset=mnist dataset.split=test eval.checkpoint=outputs/DATE/TIME/ckpt solver=dopri5\n"
    "  tinyflow likelihood experiment=moons eval.checkpoint=run/ckpt eval.likelihood.exact=true solver=rk4\n",
    run_likelihood, 1};

int tf_cmd_likelihood(int argc, char **argv) { return tf_cli_run_mpi(&k_likelihood, argc, argv, 0); }
