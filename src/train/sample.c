/* sample.c - `tinyflow sample` (trainer.h tf_sample_run): a checkpoint -> samples with the
 * configured solver, steps, guidance and sampling scheduler, as an image grid (samples.png), a raw
 * NumPy file (samples.npy, float32) and, with eval.trajectory = K, trajectory.png: the first
 * samples' states at K evenly spaced grid points from noise to data. Rank 0 only. Must not know about the command line or MPI collectives. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "eval/npy.h"
#include "track/png.h"
#include "train/train_internal.h"

/* NumPy .npy (float32, C order) through eval/npy.c's atomic writer: a temp file created
 * O_EXCL|O_NOFOLLOW (never through a planted symlink), fsync, rename. */
static void write_npy(const char *path, const float *x, const int *shape, int ndim) {
    int64_t shp[4];
    for (int i = 0; i < ndim; i++) shp[i] = shape[i];
    char err[4400];
    if (tf_npy_write(path, "<f4", ndim, shp, x, err, sizeof err)) tf_die("cannot write the samples: %s", err);
}

/* trajectory.png from traj[grid points][n][D]: one row per sample (up to 10), K columns at
 * evenly spaced grid points (first = noise, last = the sample); toy data: K scatter plots. */
static void write_trajectory(const char *path, const TfTrainOpts *o, const TfSampler *s, const float *traj) {
    const int G = s->grid.n, K = o->trajectory < G ? o->trajectory : G, D = s->dim;
    const size_t state = (size_t)s->n * D;
    if (o->is_toy) {
        const int S = 256;
        float *img = tf_malloc((size_t)K * S * S * sizeof(float));
        for (int k = 0; k < K; k++)
            tf_raster_points(traj + (size_t)((int64_t)k * (G - 1) / (K - 1)) * state, s->n, 4.0f, S, img + (size_t)k * S * S);
        tf_png_write_grid(path, img, K, 1, S, S, 1, K, 4);
        free(img);
        return;
    }
    const int rows = s->n < 10 ? s->n : 10, C = o->model.in_ch, S = o->model.image_size;
    float *cells = tf_malloc((size_t)rows * K * D * sizeof(float));
    for (int i = 0; i < rows; i++)
        for (int k = 0; k < K; k++) {
            const float *src = traj + (size_t)((int64_t)k * (G - 1) / (K - 1)) * state + (size_t)i * D;
            float *dst = cells + ((size_t)i * K + k) * D;
            for (int j = 0; j < D; j++) dst[j] = src[j] < -1.0f ? -1.0f : (src[j] > 1.0f ? 1.0f : src[j]);
        }
    tf_png_write_grid(path, cells, rows * K, C, S, S, rows, K, 2);
    free(cells);
}

int tf_sample_run(const TfCfg *cfg, const char *run_dir) {
    const TfDist *d = tf_dist_get();
    if (d && d->rank != 0) return TF_EXIT_OK;
    TfTrainOpts o;
    tf_train_opts_read(cfg, &o);
    if (!strcmp(o.resume, "never") || !strcmp(o.resume, "auto"))
        tf_die_usage("pass trainer.resume=RUN_DIR (or a checkpoint directory or .ckpt file)",
                     "tinyflow sample needs a checkpoint; trainer.resume is '%s'", o.resume);
    if (o.eval_n < 1) tf_die_usage("set eval.n_samples >= 1", "eval.n_samples = %lld", (long long)o.eval_n);
    if (o.threads > 0) omp_set_num_threads(o.threads);
    else if (d && !getenv("OMP_NUM_THREADS")) omp_set_num_threads(d->cpu_share);
    TfCkpt *ck = tf_train_find_checkpoint(o.resume, "", 1);
    TfSampler s;
    tf_sampler_init(&s, &o, tf_backend_cpu(), (int)o.eval_n);
    const TfTape *tp = &s.inf;
    TfCkptTensor *sig = tf_calloc((size_t)tp->n_params, sizeof *sig);
    for (int i = 0; i < tp->n_params; i++) {
        sig[i].name = tp->params[i].name;
        sig[i].ndim = tp->params[i].ndim;
        memcpy(sig[i].shape, tp->params[i].shape, sizeof sig[i].shape);
        sig[i].numel = tp->params[i].numel;
    }
    char err[2048];
    if (tf_ckpt_check_signature(ck, tf_model_kind_name(o.model.kind), sig, tp->n_params, NULL, err, sizeof err))
        tf_die_usage("sample with the model.* settings (e.g. the experiment) the checkpoint was trained with", "%s", err);
    float *w = tf_aligned_alloc(tp->n_param_floats * sizeof(float));
    const char *group = o.use_ema ? "ema" : "param";
    if (tf_train_copy_group(tp, ck, group, w)) {
        printf("note: %s has no EMA weights; sampling with the raw parameters\n", ck->path);
        group = "param";
        if (tf_train_copy_group(tp, ck, group, w)) tf_die_usage("use a tinyflow training checkpoint", "%s has no parameters", ck->path);
    }
    tf_sampler_load(&s, w, tp->n_param_floats);
    TfSolveStats ss;
    float *traj = o.trajectory > 0 ? tf_malloc((size_t)s.grid.n * (size_t)s.n * s.dim * sizeof(float)) : NULL;
    double t0 = omp_get_wtime();
    tf_sampler_run(&s, o.seed, traj, &ss);
    double secs = omp_get_wtime() - t0;
    char png[4300], npy[4300], trj[4300];
    snprintf(png, sizeof png, "%s/samples.png", run_dir);
    snprintf(npy, sizeof npy, "%s/samples.npy", run_dir);
    const int C = o.model.in_ch, S = o.model.image_size;
    if (o.is_toy) {
        float *img = tf_malloc(256 * 256 * sizeof(float));
        tf_raster_points(s.x, s.n, 4.0f, 256, img);
        tf_png_write_grid(png, img, 1, 1, 256, 256, 1, 1, 0);
        free(img);
        int shape[2] = {s.n, s.dim};
        write_npy(npy, s.x, shape, 2);
    } else {
        int cells = o.grid_rows > 0 ? o.grid_rows * o.grid_cols : s.n;
        tf_png_write_grid(png, s.x, cells, C, S, S, o.grid_rows, o.grid_cols, 2);
        int shape[4] = {s.n, C, S, S};
        write_npy(npy, s.x, shape, 4);
    }
    char iv_text[64] = "";
    if (s.guided && (o.guidance_interval[0] > 0.0f || o.guidance_interval[1] < 1.0f))
        snprintf(iv_text, sizeof iv_text, " on t in [%g, %g]", (double)o.guidance_interval[0], (double)o.guidance_interval[1]);
    printf("sampled %d from %s (%s weights, step %llu): %s, %d steps, NFE %ld, guidance %g%s%s%s, %.1f s\n  grid:    %s\n"
           "  samples: %s\n",
           s.n, ck->path, group, (unsigned long long)ck->meta.step, tf_solver_name(o.solver), o.solver_steps, ss.nfe,
           s.guided ? o.guidance : 1.0, iv_text, s.transformed ? ", scheduler " : "",
           s.transformed ? tf_cfg_get_str(cfg, "eval.solver.scheduler") : "", secs, png, npy);
    if (traj) {
        snprintf(trj, sizeof trj, "%s/trajectory.png", run_dir);
        write_trajectory(trj, &o, &s, traj);
        printf("  trajectory: %s (%d states per sample, t = 0 noise to t = 1 data)\n", trj,
               o.trajectory < s.grid.n ? o.trajectory : s.grid.n);
        free(traj);
    }
    free(w);
    free(sig);
    tf_sampler_free(&s);
    tf_ckpt_free(ck);
    return TF_EXIT_OK;
}
