/* metrics.c - reference statistics (cached), per-shard accumulation of generated samples,
 * the reduction over ranks through a caller-supplied allreduce, FID / KID / conditional
 * accuracy and class entropy (see metrics.h). Must not know about MPI, flow models or the CLI. */
#include "eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/loader.h"
#include "eval/kid.h"

#define KEEP_ROWS_MAX 50000 /* generated feature rows kept per shard for KID */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

TfEvalOpts tf_eval_opts_default(void) {
    TfEvalOpts o = {100, 1000, 10000, 0};
    return o;
}

void tf_eval_quantize(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        v = v != v ? -1.0f : v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
        x[i] = roundf((v + 1.0f) * 127.5f) / 127.5f - 1.0f;
    }
}

void tf_eval_cache_path(const TfClassifier *clf, const char *dataset, const char *split, const char *fallback_dir,
                        char *out, size_t cap) {
    char dir[4096];
    const char *slash = clf->path[0] ? strrchr(clf->path, '/') : NULL;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - clf->path), clf->path);
    else snprintf(dir, sizeof dir, "%s", clf->path[0] ? "." : fallback_dir && fallback_dir[0] ? fallback_dir : ".");
    if (snprintf(out, cap, "%s/stats_%s_%s_%s.tfstats", dir, dataset, split, clf->hash) >= (int)cap)
        tf_die("statistics cache path too long (directory '%s')", dir);
}

static void reduce(const TfReducer *red, double *buf, size_t n, int op) {
    if (red && red->world > 1) red->allreduce(red->ctx, buf, n, op);
}

/* Merge every rank's TfStats into *s (plain sums around the global mean). */
static void reduce_stats(const TfReducer *red, TfStats *s) {
    if (!red || red->world <= 1) return;
    const int d = s->d;
    double *c = tf_calloc((size_t)d + 1, sizeof(double));
    for (int i = 0; i < d; i++) c[i] = s->n * s->mean[i];
    c[d] = s->n;
    reduce(red, c, (size_t)d + 1, TF_REDUCE_SUM);
    for (int i = 0; i < d; i++) c[i] = c[d] > 0 ? c[i] / c[d] : 0.0;
    double *buf = tf_malloc(sizeof(double) * tf_stats_sums_len(d));
    tf_stats_to_sums(s, c, buf);
    reduce(red, buf, tf_stats_sums_len(d), TF_REDUCE_SUM);
    tf_stats_from_sums(s, c, buf);
    free(buf);
    free(c);
}

static void context_base(TfEvalContext *ctx, TfClassifier *clf, const TfEvalOpts *opts) {
    memset(ctx, 0, sizeof *ctx);
    ctx->clf = clf;
    ctx->opts = opts ? *opts : tf_eval_opts_default();
    ctx->d = clf->cfg.feat_dim;
    ctx->classes = clf->cfg.num_classes;
    tf_stats_init(&ctx->ref, ctx->d);
    ctx->ref_cov = tf_malloc(sizeof(double) * (size_t)ctx->d * ctx->d);
}

int tf_eval_context_init(TfEvalContext *ctx, TfClassifier *clf, const TfDataset *ref, const char *cache,
                         const TfEvalOpts *opts, const TfReducer *red, char *err, size_t cap) {
    context_base(ctx, clf, opts);
    const int d = ctx->d, rank = red ? red->rank : 0, world = red && red->world > 1 ? red->world : 1;
    if (!ref->pixels || ref->c != clf->cfg.in_ch || ref->h != clf->cfg.image_size || ref->w != clf->cfg.image_size) {
        snprintf(err, cap, "reference set %s (%dx%dx%d) does not fit the classifier (%dx%dx%d images)", ref->name,
                 ref->c, ref->h, ref->w, clf->cfg.in_ch, clf->cfg.image_size, clf->cfg.image_size);
        return -1;
    }
    const int64_t n = ref->n;
    const int kref = (int)(ctx->opts.kid_ref < n ? ctx->opts.kid_ref : n);
    snprintf(ctx->tag, sizeof ctx->tag, "dataset=%s n=%lld classifier=%s kid_ref=%d kid_seed=%llu", ref->name,
             (long long)n, clf->hash, kref, (unsigned long long)ctx->opts.seed);
    /* Use the cache only when every rank can read it (the decision must be collective). */
    char tag[256] = "", lerr[1024];
    TfStats cached;
    float *feat = NULL;
    int nf = 0;
    int ok = cache && tf_stats_load(cache, &cached, tag, sizeof tag, &feat, &nf, lerr, sizeof lerr) == 0;
    if (ok && (strcmp(tag, ctx->tag) || cached.d != d || nf != kref)) {
        fprintf(stderr, "[rank %d] statistics cache %s describes '%s', not '%s': recomputing\n", tf_rank(), cache, tag,
                ctx->tag);
        tf_stats_free(&cached);
        free(feat);
        feat = NULL;
        ok = 0;
    }
    double all = ok;
    reduce(red, &all, 1, TF_REDUCE_SUM);
    if (all == world) {
        tf_stats_merge(&ctx->ref, &cached);
        ctx->ref_feat = feat;
        ctx->n_ref_feat = nf;
        ctx->from_cache = 1;
        tf_stats_free(&cached);
        tf_stats_covariance(&ctx->ref, ctx->ref_cov);
        return 0;
    }
    if (ok) { tf_stats_free(&cached); free(feat); }
    /* This rank's share [lo, hi) of the examples. KID rows: the first kref positions of a keyed
     * permutation of the set (sorted), so no periodic structure of the data is aliased. */
    const int64_t lo = n * rank / world, hi = n * (rank + 1) / world;
    const int B = clf->tape.batch;
    const size_t per = (size_t)ref->c * ref->h * ref->w;
    float *x = tf_malloc(sizeof(float) * per * (size_t)B), *f = tf_malloc(sizeof(float) * (size_t)B * d);
    double *kid = tf_calloc((size_t)kref * d + 1, sizeof(double));
    uint32_t *pick = tf_malloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1));
    tf_loader_permutation(ctx->opts.seed, 0, pick, n);
    qsort(pick, (size_t)kref, sizeof *pick, cmp_u32);
    int64_t j = 0;
    while (j < kref && pick[j] < lo) j++;
    for (int64_t i0 = lo; i0 < hi; i0 += B) {
        const int m = hi - i0 < B ? (int)(hi - i0) : B;
        tf_u8_to_float(ref->pixels + (size_t)i0 * per, per * (size_t)m, x);
        tf_classifier_run(clf, x, m, f, NULL);
        tf_stats_add(&ctx->ref, f, m);
        for (; j < kref && pick[j] < i0 + m; j++)
            for (int k = 0; k < d; k++) kid[(size_t)j * d + k] = f[(size_t)(pick[j] - i0) * d + k];
    }
    free(pick);
    reduce_stats(red, &ctx->ref);
    reduce(red, kid, (size_t)kref * d, TF_REDUCE_SUM); /* each row was filled by exactly one rank */
    ctx->n_ref_feat = kref;
    ctx->ref_feat = tf_malloc(sizeof(float) * ((size_t)kref * d + 1));
    for (size_t k = 0; k < (size_t)kref * d; k++) ctx->ref_feat[k] = (float)kid[k];
    free(x); free(f); free(kid);
    if (ctx->ref.n < 2) { snprintf(err, cap, "reference set %s has %.0f examples; need at least 2", ref->name, ctx->ref.n); return -1; }
    tf_stats_covariance(&ctx->ref, ctx->ref_cov);
    if (cache && rank == 0 && tf_stats_save(cache, &ctx->ref, ctx->tag, ctx->ref_feat, kref, lerr, sizeof lerr))
        fprintf(stderr, "[rank 0] warning: could not cache the reference statistics: %s\n", lerr);
    return 0;
}

void tf_eval_context_from_stats(TfEvalContext *ctx, TfClassifier *clf, const double *mean, const double *cov,
                                double n, const float *ref_feat, int n_ref_feat, const TfEvalOpts *opts) {
    context_base(ctx, clf, opts);
    const size_t d = (size_t)ctx->d;
    ctx->ref.n = n;
    memcpy(ctx->ref.mean, mean, sizeof(double) * d);
    for (size_t k = 0; k < d * d; k++) ctx->ref.m2[k] = cov[k] * (n - 1), ctx->ref_cov[k] = cov[k];
    if (ref_feat && n_ref_feat > 0) {
        ctx->ref_feat = tf_malloc(sizeof(float) * d * (size_t)n_ref_feat);
        memcpy(ctx->ref_feat, ref_feat, sizeof(float) * d * (size_t)n_ref_feat);
        ctx->n_ref_feat = n_ref_feat;
    }
    snprintf(ctx->tag, sizeof ctx->tag, "given statistics n=%.0f classifier=%s", n, clf->hash);
}

void tf_eval_context_free(TfEvalContext *ctx) {
    tf_stats_free(&ctx->ref);
    free(ctx->ref_cov);
    free(ctx->ref_feat);
    memset(ctx, 0, sizeof *ctx);
}

void tf_eval_shard_init(TfEvalShard *sh, const TfEvalContext *ctx) {
    memset(sh, 0, sizeof *sh);
    tf_stats_init(&sh->stats, ctx->d);
    sh->hist = tf_calloc((size_t)ctx->classes, sizeof(double));
}

void tf_eval_shard_free(TfEvalShard *sh) {
    tf_stats_free(&sh->stats);
    free(sh->feat);
    free(sh->hist);
    memset(sh, 0, sizeof *sh);
}

void tf_eval_shard_add(const TfEvalContext *ctx, TfEvalShard *sh, const float *x, int n, const int *labels) {
    TfClassifier *clf = ctx->clf;
    const int B = clf->tape.batch, d = ctx->d, K = ctx->classes;
    const size_t per = (size_t)clf->cfg.in_ch * clf->cfg.image_size * clf->cfg.image_size;
    float *q = tf_malloc(sizeof(float) * per * (size_t)B), *f = tf_malloc(sizeof(float) * (size_t)B * d),
          *lg = tf_malloc(sizeof(float) * (size_t)B * K);
    for (int i0 = 0; i0 < n; i0 += B) {
        const int m = n - i0 < B ? n - i0 : B;
        memcpy(q, x + (size_t)i0 * per, sizeof(float) * per * (size_t)m);
        tf_eval_quantize(q, per * (size_t)m);
        tf_classifier_run(clf, q, m, f, lg);
        tf_stats_add(&sh->stats, f, m);
        int keep = m < KEEP_ROWS_MAX - sh->n_feat ? m : KEEP_ROWS_MAX - sh->n_feat;
        if (keep > 0) {
            if (sh->n_feat + keep > sh->cap_feat) {
                int nc = sh->cap_feat ? sh->cap_feat : 1024;
                while (nc < sh->n_feat + keep) nc *= 2;
                if (nc > KEEP_ROWS_MAX) nc = KEEP_ROWS_MAX;
                float *nf = realloc(sh->feat, sizeof(float) * (size_t)nc * d);
                if (!nf) tf_die("out of memory keeping %d feature rows", nc);
                sh->feat = nf;
                sh->cap_feat = nc;
            }
            memcpy(sh->feat + (size_t)sh->n_feat * d, f, sizeof(float) * (size_t)keep * d);
            sh->n_feat += keep;
        }
        for (int i = 0; i < m; i++) {
            int best = 0;
            for (int k = 1; k < K; k++) if (lg[(size_t)i * K + k] > lg[(size_t)i * K + best]) best = k;
            sh->hist[best] += 1;
            if (labels) {
                sh->labelled += 1;
                sh->correct += best == labels[i0 + i];
            }
        }
    }
    free(q); free(f); free(lg);
}

int tf_eval_shard_finish(const TfEvalContext *ctx, TfEvalShard *sh, const TfReducer *red, TfEvalResult *out,
                         char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    const int d = ctx->d, K = ctx->classes, rank = red ? red->rank : 0, world = red && red->world > 1 ? red->world : 1;
    /* KID: subset size from the smallest shard, subsets split over the ranks. */
    double mn = -(double)sh->n_feat;
    reduce(red, &mn, 1, TF_REDUCE_MAX);
    const int m = tf_kid_subset_size(ctx->opts.kid_size, (int)-mn, ctx->n_ref_feat);
    const int S = ctx->opts.kid_subsets, s0 = S * rank / world, s1 = S * (rank + 1) / world;
    double *buf = tf_calloc((size_t)K + 5, sizeof(double));
    if (m >= 2 && ctx->ref_feat && s1 > s0) {
        double *v = tf_malloc(sizeof(double) * (size_t)(s1 - s0));
        tf_kid_subsets(sh->feat, sh->n_feat, ctx->ref_feat, ctx->n_ref_feat, d, m, ctx->opts.seed, s0, s1 - s0, v);
        for (int k = 0; k < s1 - s0; k++) buf[0] += v[k], buf[1] += v[k] * v[k], buf[2] += 1;
        free(v);
    }
    buf[3] = sh->correct;
    buf[4] = sh->labelled;
    for (int k = 0; k < K; k++) buf[5 + k] = sh->hist[k];
    reduce(red, buf, (size_t)K + 5, TF_REDUCE_SUM);
    reduce_stats(red, &sh->stats);
    out->n = sh->stats.n;
    int rc = 0;
    if (sh->stats.n < 2) {
        snprintf(err, cap, "FID needs at least 2 samples (got %.0f)", sh->stats.n);
        rc = -1;
    } else {
        double *cov = tf_malloc(sizeof(double) * (size_t)d * d);
        tf_stats_covariance(&sh->stats, cov);
        rc = tf_frechet_distance(d, ctx->ref.mean, ctx->ref_cov, sh->stats.mean, cov, &out->fid, &out->fid_info, err, cap);
        free(cov);
    }
    out->kid_size = m >= 2 && ctx->ref_feat ? m : 0;
    out->kid_subsets = (int)buf[2];
    if (buf[2] > 0) {
        out->kid = buf[0] / buf[2];
        double var = buf[1] / buf[2] - out->kid * out->kid;
        out->kid_std = sqrt(var > 0 ? var : 0);
    } else out->kid = out->kid_std = NAN;
    out->class_acc = buf[4] > 0 ? buf[3] / buf[4] : NAN;
    double tot = 0, h = 0;
    for (int k = 0; k < K; k++) tot += buf[5 + k];
    for (int k = 0; k < K; k++)
        if (buf[5 + k] > 0) h -= buf[5 + k] / tot * log(buf[5 + k] / tot);
    out->class_entropy = tot > 0 ? h : NAN;
    out->class_entropy_max = log((double)K);
    free(buf);
    return rc;
}

int tf_eval_fid_samples(const TfEvalContext *ctx, const float *samples, int n, const int *labels,
                        TfEvalResult *out, char *err, size_t cap) {
    TfEvalShard sh;
    tf_eval_shard_init(&sh, ctx);
    tf_eval_shard_add(ctx, &sh, samples, n, labels);
    int rc = tf_eval_shard_finish(ctx, &sh, NULL, out, err, cap);
    tf_eval_shard_free(&sh);
    return rc;
}
