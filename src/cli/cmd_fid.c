/* cmd_fid.c - `tinyflow fid [overrides]`: FID / KID / conditional accuracy and class entropy of
 * samples -- generated from a flow-model checkpoint (eval.checkpoint; solver, steps, guidance,
 * EMA or not) or read from eval.samples (.npy or a folder of PNGs) -- against the reference
 * statistics of dataset.name / eval.ref_split (cached next to the classifier) or a pytorch-fid
 * .npz. Under mpirun/srun (mpi_glue.h starts MPI) every rank scores its share of the samples and
 * the statistics are reduced in float64 with MPI_Allreduce; rank 0 prints and writes.
 * Knows the config keys and eval/'s API; the computation lives in src/eval, MPI in mpi_glue.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/eval_glue.h"
#include "cli/job.h"
#include "cli/mpi_glue.h"
#include "core/check.h"
#include "eval/eval_config.h"
#include "eval/images.h"
#include "eval/metrics.h"
#include "eval/npy.h"
#include "eval/run_model.h"
#include "eval/sampler.h"
#include "train/options.h"
#include "track/jsonl.h"

static void die_err(const char *hint, const char *err) { tf_die_usage(hint, "%s", err); }

/* Score this rank's share of eval.samples. */
static void score_file(const TfCfg *cfg, const TfEvalContext *ctx, const TfReducer *red, TfEvalShard *sh) {
    char err[4096];
    const char *path = tf_eval_cfg_str(cfg, "eval.samples"), *lpath = tf_eval_cfg_str(cfg, "eval.sample_labels");
    TfImageSet s;
    if (tf_images_load(path, &s, err, sizeof err)) die_err("see docs/evaluation.md for the accepted sample files", err);
    const TfModelConfig *c = &ctx->clf->cfg;
    if (s.c == 1 && c->in_ch == 3) tf_images_grey_to_rgb(&s);
    if (s.c != c->in_ch || s.h != c->image_size || s.w != c->image_size)
        tf_die_usage("score images of the classifier's size", "%s: images are %dx%dx%d, the classifier takes %dx%dx%d",
                     path, s.c, s.h, s.w, c->in_ch, c->image_size, c->image_size);
    int *labels = NULL;
    if (lpath && tf_labels_load(lpath, s.n, &labels, err, sizeof err)) die_err("give int labels, one per image", err);
    const int64_t lo = s.n * red->rank / red->world, hi = s.n * (red->rank + 1) / red->world;
    const size_t per = (size_t)s.c * s.h * s.w;
    tf_eval_shard_add(ctx, sh, s.x + (size_t)lo * per, (int)(hi - lo), labels ? labels + lo : NULL);
    if (red->rank == 0) printf("fid: scoring %lld images from %s\n", (long long)s.n, path);
    free(labels);
    tf_images_free(&s);
}

/* Generate and score this rank's share of eval.fid_samples from eval.checkpoint. */
static void score_model(const TfCfg *cfg, const TfEvalContext *ctx, const TfReducer *red, TfEvalShard *sh) {
    char err[4096];
    const char *path = tf_eval_cfg_str(cfg, "eval.checkpoint");
    if (!path)
        tf_die_usage("set eval.checkpoint=PATH (a flow-model checkpoint) or eval.samples=PATH (.npy or PNG folder)",
                     "fid: nothing to score");
    TfCkpt *ck = NULL;
    TfRunModel rm;
    if (tf_run_open_checkpoint(path, &ck, err, sizeof err)) die_err("pass a checkpoint file or its run folder", err);
    if (tf_run_model_from_text(ck->meta.config_text ? ck->meta.config_text : "", &rm, err, sizeof err))
        die_err("the checkpoint's config text must hold the model: keys of its run", err);
    const TfModelConfig *c = &ctx->clf->cfg;
    if (rm.model.in_ch != c->in_ch || rm.model.image_size != c->image_size)
        tf_die_usage("use a classifier of the model's dataset", "the model makes %dx%dx%d images, the classifier takes %dx%dx%d",
                     rm.model.in_ch, rm.model.image_size, rm.model.image_size, c->in_ch, c->image_size, c->image_size);
    TfEvalSampleOpts so = tf_eval_sample_opts(cfg, &rm.sched);
    so.transform = tf_train_sampling_scheduler(cfg, so.solver, &so.target);
    TfEvalSampler s;
    tf_eval_sampler_init(&s, &rm.model, &so);
    const char *group = tf_cfg_get_bool(cfg, "eval.use_ema") ? "ema" : "param";
    if (tf_run_load_params(ck, group, tf_model_kind_name(rm.model.kind), &s.tape, err, sizeof err))
        die_err("check eval.checkpoint (and eval.use_ema)", err);
    const int64_t N = tf_cfg_get_int(cfg, "eval.fid_samples");
    const int64_t lo = N * red->rank / red->world, hi = N * (red->rank + 1) / red->world;
    const int D = tf_model_sample_dim(&rm.model), chunk = 1000;
    const char *save = tf_eval_cfg_str(cfg, "eval.save_samples");
    if (save && red->world > 1) tf_die_usage("run with one process to save samples", "eval.save_samples needs one process");
    float *x = tf_malloc(sizeof(float) * (size_t)D * (save ? (size_t)(hi - lo) : (size_t)chunk));
    int *lab = tf_malloc(sizeof(int) * chunk);
    char iv_text[64] = "";
    if (so.guidance != 1.0f && (so.guidance_interval[0] > 0.0f || so.guidance_interval[1] < 1.0f))
        snprintf(iv_text, sizeof iv_text, " on t in [%g, %g]", (double)so.guidance_interval[0], (double)so.guidance_interval[1]);
    if (red->rank == 0)
        printf("fid: %lld samples from %s (step %llu, %s weights), %s %d steps, guidance %g%s%s%s, %d ranks\n", (long long)N,
               ck->path, (unsigned long long)ck->meta.step, group, tf_solver_name(so.solver), so.steps,
               (double)so.guidance, iv_text, so.transform ? ", sampled under scheduler " : "",
               so.transform ? tf_cfg_get_str(cfg, "eval.solver.scheduler") : "", red->world);
    time_t t0 = time(NULL);
    for (int64_t i0 = lo; i0 < hi; i0 += chunk) {
        const int m = hi - i0 < chunk ? (int)(hi - i0) : chunk;
        float *xc = save ? x + (size_t)(i0 - lo) * D : x;
        tf_eval_sampler_run(&s, i0, m, xc, lab);
        tf_eval_shard_add(ctx, sh, xc, m, rm.model.num_classes > 0 ? lab : NULL);
        if (red->rank == 0) {
            printf("fid: rank 0 has %lld/%lld of its samples (NFE so far %ld, %.0f s)\n", (long long)(i0 + m - lo),
                   (long long)(hi - lo), s.stats.nfe, difftime(time(NULL), t0));
            fflush(stdout);
        }
    }
    if (save) {
        int64_t shape[4] = {hi - lo, rm.model.in_ch, rm.model.image_size, rm.model.image_size};
        if (tf_npy_write(save, "<f4", 4, shape, x, err, sizeof err)) die_err("check eval.save_samples", err);
        printf("fid: wrote the samples to %s\n", save);
    }
    free(x);
    free(lab);
    tf_eval_sampler_free(&s);
    tf_ckpt_free(ck);
}

static int run_fid(const TfCfg *cfg, const char *run_dir, void *vctx) {
    (void)vctx;
    tf_cli_eval_threads(cfg);
    const TfReducer red = tf_cli_reducer();
    char err[4096];
    TfClassifier clf;
    tf_cli_load_classifier(cfg, (int)tf_cfg_get_int(cfg, "eval.batch_size"), &clf, "fid");
    TfEvalContext ctx;
    tf_cli_fid_reference(cfg, &clf, &red, &ctx, "fid");
    TfEvalShard sh;
    tf_eval_shard_init(&sh, &ctx);
    if (tf_eval_cfg_str(cfg, "eval.samples")) score_file(cfg, &ctx, &red, &sh);
    else score_model(cfg, &ctx, &red, &sh);
    TfEvalResult r;
    if (tf_eval_shard_finish(&ctx, &sh, &red, &r, err, sizeof err)) tf_die("%s", err);
    int rc = TF_EXIT_OK;
    if (red.rank == 0) {
        printf("FID %.4f  KID %.5f +- %.5f (%d subsets of %d)  class accuracy %s%.4f  class entropy %.4f of %.4f nats"
               "  (%.0f samples, classifier %s)\n", r.fid, r.kid, r.kid_std, r.kid_subsets, r.kid_size,
               r.class_acc == r.class_acc ? "" : "(no labels) ", r.class_acc, r.class_entropy, r.class_entropy_max,
               r.n, clf.hash);
        if (r.fid_info.suspicious)
            printf("fid: warning: an eigenvalue far below zero was clipped (%.2e / %.2e of the largest): the "
                   "covariances are not PSD beyond rounding\n", r.fid_info.min_rel1, r.fid_info.min_rel);
        if (run_dir) {
            char jl[4200];
            snprintf(jl, sizeof jl, "%s/metrics.jsonl", run_dir);
            const char *keys[] = {"fid", "kid", "kid_std", "class_acc", "class_entropy", "n"};
            const double vals[] = {r.fid, r.kid, r.kid_std, r.class_acc, r.class_entropy, r.n};
            tf_jsonl_append(jl, 0, (double)time(NULL), keys, vals, 6);
        }
        const char *npz = tf_eval_cfg_str(cfg, "eval.npz"), *snpz = tf_eval_cfg_str(cfg, "eval.samples_npz");
        if (npz && tf_npz_write_stats(npz, ctx.d, ctx.ref.mean, ctx.ref_cov, err, sizeof err))
            fprintf(stderr, "[rank 0] %s\n", err), rc = TF_EXIT_FAILURE;
        if (snpz) {
            double *cov = tf_malloc(sizeof(double) * (size_t)ctx.d * ctx.d);
            tf_stats_covariance(&sh.stats, cov);
            if (tf_npz_write_stats(snpz, ctx.d, sh.stats.mean, cov, err, sizeof err))
                fprintf(stderr, "[rank 0] %s\n", err), rc = TF_EXIT_FAILURE;
            free(cov);
        }
    }
    tf_eval_shard_free(&sh);
    tf_eval_context_free(&ctx);
    tf_classifier_free(&clf);
    return rc;
}

static const TfJobCommand k_fid = {
    "fid", "FID, KID and class metrics of samples against a dataset",
    "usage: tinyflow fid [options] [overrides]\n\n"
    "Scores eval.fid_samples samples generated from eval.checkpoint (eval.use_ema; eval.solver.* or\n"
    "solver.*: name, steps, guidance) -- or the images of eval.samples (.npy float32 [N,C,H,W] in\n"
    "[-1,1], uint8 [N,H,W,C], or a folder of PNGs) -- with the feature classifier\n"
    "eval.classifier.ckpt against dataset.name / eval.ref_split (statistics cached next to the\n"
    "classifier) or eval.ref_npz. Prints FID, KID (eval.kid_*), and for conditional models the\n"
    "fraction classified as their label and the entropy of the predicted classes.\n"
    "Under mpirun/srun each rank scores a share (samples [N r/W, N (r+1)/W)); the statistics are reduced\n"
    "in float64 and rank 0 prints and writes metrics.jsonl.\n\n"
    "Examples:\n"
    "  tinyflow fid dataset=mnist eval.classifier.ckpt=clf/ eval.checkpoint=outputs/DATE/TIME/ckpt\n"
    "  tinyflow fid dataset=mnist eval.classifier.ckpt=clf/ eval.checkpoint=run/ckpt solver=midpoint\n"
    "      eval.solver.steps=50 eval.solver.guidance=2.0 eval.fid_samples=10000\n"
    "  tinyflow fid dataset=mnist eval.classifier.ckpt=clf/ eval.samples=samples.npy eval.ref_split=test\n"
    "  tinyflow fid dataset=cifar10 eval.classifier.ckpt=clf/ eval.samples=pngs/ eval.npz=cifar_train.npz\n"
    "  mpirun -np 4 tinyflow fid dataset=mnist eval.classifier.ckpt=clf/ eval.checkpoint=run/checkpoints\n",
    run_fid, 1};

int tf_cmd_fid(int argc, char **argv) { return tf_cli_run_mpi(&k_fid, argc, argv, 0); }
