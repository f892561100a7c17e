/* schema.c - the table of every config key tinyflow reads (type, range, choices) and
 * tf_cfg_validate(): the one place where bad values are caught, with messages that
 * name the key. docs/config.md documents the same table (a test keeps them in step).
 * Knows key names and value rules only, not the modules that use them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/check.h"

#define N TF_CFG_NULLABLE
#define LO TF_CFG_LO_OPEN
#define HI TF_CFG_HI_OPEN
#define BIG 1e12
#define ANY 1, 0 /* no range */

static const TfCfgKey k_keys[] = {
    {"model.name", TF_CFG_STR, ANY, 0, "unet|mlp", "network architecture (the FID classifier is eval.classifier.*)"},
    {"model.in_ch", TF_CFG_INT, 1, 64, 0, NULL, "input channels (= dataset.channels)"},
    {"model.image_size", TF_CFG_INT, 1, 1024, 0, NULL, "input height = width (= dataset.image_size)"},
    {"model.base_ch", TF_CFG_INT, 1, 4096, 0, NULL, "channels at the first resolution"},
    {"model.ch_mult", TF_CFG_INT_LIST, 1, 64, 0, NULL, "channel multiplier per resolution"},
    {"model.num_res_blocks", TF_CFG_INT, 0, 16, 0, NULL, "residual blocks per resolution"},
    {"model.attn_res", TF_CFG_INT_LIST, 1, 1024, 0, NULL, "resolutions with self-attention"},
    {"model.groups", TF_CFG_INT, 1, 1024, 0, NULL, "GroupNorm groups"},
    {"model.heads", TF_CFG_INT, 1, 64, 0, NULL, "attention heads"},
    {"model.dropout", TF_CFG_FLOAT, 0, 1, HI, NULL, "dropout probability"},
    {"model.num_classes", TF_CFG_INT, 0, 100000, 0, NULL, "label classes (0: unconditional)"},
    {"model.zero_init", TF_CFG_BOOL, ANY, 0, NULL, "zero-initialise output layers"},
    {"model.temb_dim", TF_CFG_INT, 1, 8192, 0, NULL, "time-embedding width"},
    {"model.hidden", TF_CFG_INT, 1, 65536, 0, NULL, "MLP hidden width"},
    {"model.layers", TF_CFG_INT, 1, 64, 0, NULL, "MLP hidden layers"},

    {"dataset.name", TF_CFG_STR, ANY, 0, "mnist|fashion_mnist|cifar10|moons|8gaussians|checkerboard|circles", "dataset"},
    {"dataset.root", TF_CFG_STR, ANY, 0, NULL, "data directory"},
    {"dataset.split", TF_CFG_STR, ANY, 0, "train|test", "which split to read"},
    {"dataset.channels", TF_CFG_INT, 1, 64, 0, NULL, "channels (fixed by the dataset)"},
    {"dataset.image_size", TF_CFG_INT, 1, 1024, 0, NULL, "height = width (fixed by the dataset)"},
    {"dataset.num_classes", TF_CFG_INT, 1, 100000, 0, NULL, "label classes (fixed by the dataset)"},
    {"dataset.batch_size", TF_CFG_INT, 1, 1e7, 0, NULL, "GLOBAL batch size over all ranks"},
    {"dataset.hflip", TF_CFG_BOOL, ANY, 0, NULL, "random horizontal flips"},
    {"dataset.dequantize", TF_CFG_BOOL, ANY, 0, NULL, "8-bit images: add U[0,1) noise to each pixel level (for likelihoods)"},
    {"dataset.prefetch", TF_CFG_INT, 0, 64, 0, NULL, "batches prepared ahead (0: none)"},
    {"dataset.n_samples", TF_CFG_INT, 1, 1e8, 0, NULL, "toy sets: examples generated"},

    {"path.scheduler", TF_CFG_STR, ANY, 0, "condot|polynomial|cosine|lvp|vp", "probability path"},
    {"path.sigma_min", TF_CFG_FLOAT, 0, 1, HI, NULL, "noise left at t = 1"},
    {"path.n", TF_CFG_FLOAT, 0, 100, LO, NULL, "polynomial exponent"},
    {"path.beta_min", TF_CFG_FLOAT, 0, 1000, 0, NULL, "VP noise schedule start"},
    {"path.beta_max", TF_CFG_FLOAT, 0, 1000, LO, NULL, "VP noise schedule end"},
    {"path.time_sampling", TF_CFG_STR, ANY, 0, "uniform|logit_normal", "distribution of training t"},
    {"path.logit_mean", TF_CFG_FLOAT, -10, 10, 0, NULL, "logit-normal mean"},
    {"path.logit_std", TF_CFG_FLOAT, 0, 10, LO, NULL, "logit-normal std"},
    {"path.clip", TF_CFG_FLOAT, 0, 0.5, HI, NULL, "t drawn in [clip, 1 - clip]"},
    {"path.coupling", TF_CFG_STR, ANY, 0, "independent|ot", "pairing of x0 and x1"},
    {"path.ot_scope", TF_CFG_STR, ANY, 0, "rank|global", "OT pairing within a rank or the global batch"},
    {"path.label_dropout", TF_CFG_FLOAT, 0, 1, 0, NULL, "label drop probability (CFG)"},

    {"solver.name", TF_CFG_STR, ANY, 0, "euler|midpoint|heun|edm_heun|rk4|rk4_38|ddim|dopri5", "ODE solver"},
    {"solver.steps", TF_CFG_INT, 1, 1e6, 0, NULL, "steps (dopri5: the most allowed)"},
    {"solver.grid", TF_CFG_STR, ANY, 0, "uniform|edm", "time grid"},
    {"solver.atol", TF_CFG_FLOAT, 0, 1, LO, NULL, "dopri5 absolute tolerance"},
    {"solver.rtol", TF_CFG_FLOAT, 0, 1, LO, NULL, "dopri5 relative tolerance"},
    {"solver.guidance", TF_CFG_FLOAT, 0, 100, 0, NULL, "classifier-free guidance scale"},
    {"solver.guidance_interval", TF_CFG_FLOAT_LIST, 0, 1, 0, NULL, "[lo, hi]: guide only for t in it (absent: [0, 1])"},

    {"optim.name", TF_CFG_STR, ANY, 0, "adam|adamw", "optimizer"},
    {"optim.lr", TF_CFG_FLOAT, 0, 10, LO, NULL, "peak learning rate"},
    {"optim.betas", TF_CFG_FLOAT_LIST, 0, 1, HI, NULL, "Adam betas [beta1, beta2]"},
    {"optim.eps", TF_CFG_FLOAT, 0, 1, LO, NULL, "Adam epsilon"},
    {"optim.weight_decay", TF_CFG_FLOAT, 0, 10, 0, NULL, "weight decay"},
    {"optim.grad_clip", TF_CFG_FLOAT, 0, 1e6, LO | N, NULL, "global gradient-norm clip (null: off)"},

    {"lr_schedule.name", TF_CFG_STR, ANY, 0, "constant|step|cosine|warmup_cosine|warmup_linear", "schedule"},
    {"lr_schedule.warmup_steps", TF_CFG_INT, 0, BIG, 0, NULL, "linear warm-up steps"},
    {"lr_schedule.step_size", TF_CFG_INT, 1, BIG, 0, NULL, "step: steps between decays"},
    {"lr_schedule.gamma", TF_CFG_FLOAT, 0, 1, LO, NULL, "step: decay factor"},
    {"lr_schedule.min_lr", TF_CFG_FLOAT, 0, 10, 0, NULL, "final learning rate"},

    {"trainer.seed", TF_CFG_INT, 0, 9007199254740991.0, 0, NULL, "the seed of every random number"},
    {"trainer.steps", TF_CFG_INT, 1, BIG, N, NULL, "optimizer steps"},
    {"trainer.epochs", TF_CFG_INT, 1, 1e9, N, NULL, "epochs (instead of steps)"},
    {"trainer.micro_batch", TF_CFG_INT, 1, 1e7, N, NULL, "per-rank micro-batch (accumulation)"},
    {"trainer.threads", TF_CFG_INT, 1, 4096, N, NULL, "OpenMP threads per rank"},
    {"trainer.log_every", TF_CFG_INT, 1, BIG, 0, NULL, "steps between log lines"},
    {"trainer.ckpt_every", TF_CFG_INT, 0, BIG, 0, NULL, "steps between checkpoints"},
    {"trainer.keep_last", TF_CFG_INT, 1, 1e6, 0, NULL, "newest checkpoints kept"},
    {"trainer.keep_every", TF_CFG_INT, 0, BIG, 0, NULL, "keep checkpoints at multiples of this"},
    {"trainer.resume", TF_CFG_STR, ANY, 0, NULL, "auto, never or a checkpoint path"},
    {"trainer.ema_decay", TF_CFG_FLOAT, 0, 1, HI, NULL, "EMA decay (0: off)"},
    {"trainer.max_skips", TF_CFG_INT, 0, 1e6, 0, NULL, "non-finite steps skipped in a row"},
    {"trainer.out_dir", TF_CFG_STR, ANY, N, NULL, "run directory (null: outputs/DATE/TIME)"},
    {"trainer.step_timeout", TF_CFG_FLOAT, 0, 1e7, 0, NULL, "watchdog: seconds one step may take (0: off)"},
    {"trainer.eval_timeout", TF_CFG_FLOAT, 0, 1e7, 0, NULL, "watchdog: seconds for start-up, an evaluation or a save"},
    {"trainer.device", TF_CFG_STR, ANY, 0, "cpu|cuda|auto", "where the step runs (auto: cuda when built with it and a GPU is visible)"},

    {"eval.every", TF_CFG_INT, 0, BIG, 0, NULL, "steps between evaluations"},
    {"eval.n_samples", TF_CFG_INT, 0, 1e7, 0, NULL, "samples per evaluation"},
    {"eval.fid_samples", TF_CFG_INT, 0, 1e7, 0, NULL, "samples for FID"},
    {"eval.grid_rows", TF_CFG_INT, 0, 256, 0, NULL, "sample grid rows"},
    {"eval.grid_cols", TF_CFG_INT, 0, 256, 0, NULL, "sample grid columns"},
    {"eval.use_ema", TF_CFG_BOOL, ANY, 0, NULL, "evaluate the EMA weights"},
    {"eval.solver.name", TF_CFG_STR, ANY, N, "euler|midpoint|heun|edm_heun|rk4|rk4_38|ddim|dopri5", "eval solver"},
    {"eval.solver.steps", TF_CFG_INT, 1, 1e6, N, NULL, "eval solver steps"},
    {"eval.solver.guidance", TF_CFG_FLOAT, 0, 100, N, NULL, "eval guidance scale"},
    {"eval.solver.guidance_interval", TF_CFG_FLOAT_LIST, 0, 1, N, NULL, "eval guidance interval [lo, hi]"},
    {"eval.solver.scheduler", TF_CFG_STR, ANY, N, "condot|polynomial|cosine|lvp|vp", "sample under this scheduler (schedule transform; null: the training path)"},
    {"eval.trajectory", TF_CFG_INT, 0, 256, 0, NULL, "tinyflow sample: states per sample in trajectory.png (0: off)"},
    {"eval.checkpoint", TF_CFG_STR, ANY, N, NULL, "flow-model checkpoint (file or folder) for fid / likelihood"},
    {"eval.samples", TF_CFG_STR, ANY, N, NULL, "fid: score these images (.npy or PNG folder) instead of sampling"},
    {"eval.sample_labels", TF_CFG_STR, ANY, N, NULL, "fid: int .npy [N] of the scored images' labels"},
    {"eval.batch_size", TF_CFG_INT, 1, 65536, 0, NULL, "samples per model call (fid, likelihood)"},
    {"eval.ref_split", TF_CFG_STR, ANY, 0, "train|test", "split of the FID reference statistics"},
    {"eval.ref_npz", TF_CFG_STR, ANY, N, NULL, "fid: reference statistics from a pytorch-fid .npz"},
    {"eval.npz", TF_CFG_STR, ANY, N, NULL, "also write the reference statistics as .npz"},
    {"eval.samples_npz", TF_CFG_STR, ANY, N, NULL, "fid: also write the samples' statistics as .npz"},
    {"eval.save_samples", TF_CFG_STR, ANY, N, NULL, "fid: also write the generated samples as .npy"},
    {"eval.kid_subsets", TF_CFG_INT, 0, 100000, 0, NULL, "KID subsets (0: no KID)"},
    {"eval.kid_subset_size", TF_CFG_INT, 2, 1e6, 0, NULL, "KID rows per subset"},
    {"eval.kid_ref", TF_CFG_INT, 0, 1e7, 0, NULL, "reference feature rows kept for KID"},
    {"eval.classifier.ckpt", TF_CFG_STR, ANY, N, NULL, "feature classifier checkpoint (file or folder)"},
    {"eval.classifier.width", TF_CFG_INT, 1, 4096, N, NULL, "classifier channels of the first stage"},
    {"eval.classifier.feat_dim", TF_CFG_INT, 1, 8192, N, NULL, "classifier feature dimension"},
    {"eval.classifier.groups", TF_CFG_INT, 1, 1024, 0, NULL, "classifier GroupNorm groups"},
    {"eval.classifier.dropout", TF_CFG_FLOAT, 0, 1, HI | N, NULL, "classifier dropout"},
    {"eval.classifier.epochs", TF_CFG_INT, 1, 1e6, N, NULL, "classifier training epochs"},
    {"eval.classifier.steps", TF_CFG_INT, 1, BIG, N, NULL, "classifier training steps (instead of epochs)"},
    {"eval.classifier.batch_size", TF_CFG_INT, 1, 1e6, 0, NULL, "classifier training batch"},
    {"eval.classifier.lr", TF_CFG_FLOAT, 0, 10, LO, NULL, "classifier peak learning rate"},
    {"eval.classifier.min_lr", TF_CFG_FLOAT, 0, 10, 0, NULL, "classifier final learning rate"},
    {"eval.classifier.warmup_steps", TF_CFG_INT, 0, BIG, 0, NULL, "classifier warm-up steps"},
    {"eval.classifier.weight_decay", TF_CFG_FLOAT, 0, 10, 0, NULL, "classifier AdamW weight decay"},
    {"eval.classifier.shift", TF_CFG_INT, 0, 64, N, NULL, "classifier augmentation: random shift (pixels)"},
    {"eval.classifier.hflip", TF_CFG_BOOL, ANY, N, NULL, "classifier augmentation: random flips"},
    {"eval.likelihood.n", TF_CFG_INT, 1, 1e8, N, NULL, "likelihood: examples scored (null: all)"},
    {"eval.likelihood.exact", TF_CFG_BOOL, ANY, 0, NULL, "likelihood: exact divergence (else Hutchinson)"},
    {"eval.likelihood.probes", TF_CFG_INT, 1, 1024, 0, NULL, "likelihood: Hutchinson probes per example"},
};

/* Keys every config must hold, and keys that one choice makes necessary. */
static const char *k_always =
    "model.name model.in_ch model.image_size model.num_classes model.dropout model.zero_init "
    "dataset.name dataset.split dataset.channels dataset.image_size dataset.num_classes dataset.batch_size "
    "dataset.hflip dataset.prefetch path.scheduler path.time_sampling path.clip path.coupling path.ot_scope "
    "path.label_dropout solver.name solver.steps solver.grid solver.atol solver.rtol solver.guidance "
    "optim.name optim.lr optim.betas optim.eps optim.weight_decay optim.grad_clip lr_schedule.name "
    "lr_schedule.warmup_steps trainer.seed trainer.steps trainer.epochs trainer.micro_batch trainer.threads "
    "trainer.log_every trainer.ckpt_every trainer.keep_last trainer.keep_every trainer.resume "
    "trainer.ema_decay trainer.max_skips trainer.out_dir eval.every eval.n_samples eval.fid_samples "
    "eval.grid_rows eval.grid_cols eval.use_ema";
static const struct { const char *key, *values, *needs; } k_requires[] = {
    {"model.name", "unet", "model.base_ch model.ch_mult model.num_res_blocks model.attn_res model.groups model.heads"},
    {"model.name", "unet", "model.temb_dim"},
    {"model.name", "mlp", "model.hidden model.layers model.temb_dim"},
    {"dataset.name", "mnist|fashion_mnist|cifar10", "dataset.root"},
    {"dataset.name", "moons|8gaussians|checkerboard|circles", "dataset.n_samples"},
    {"path.scheduler", "condot|polynomial|cosine", "path.sigma_min"},
    {"path.scheduler", "polynomial", "path.n"},
    {"path.scheduler", "lvp|vp", "path.beta_min path.beta_max"},
    {"path.time_sampling", "logit_normal", "path.logit_mean path.logit_std"},
    {"lr_schedule.name", "step", "lr_schedule.step_size lr_schedule.gamma"},
    {"lr_schedule.name", "cosine|warmup_cosine|warmup_linear", "lr_schedule.min_lr"},
};
/* Facts of each dataset: channels, image size, classes. */
static const struct { const char *name; int ch, size, classes; } k_datasets[] = {
    {"mnist", 1, 28, 10}, {"fashion_mnist", 1, 28, 10}, {"cifar10", 3, 32, 10}, {"moons", 2, 1, 2},
    {"8gaussians", 2, 1, 8}, {"checkerboard", 2, 1, 1}, {"circles", 2, 1, 2},
};

const TfCfgKey *tf_cfg_keys(size_t *n) {
    *n = sizeof k_keys / sizeof k_keys[0];
    return k_keys;
}

const TfCfgKey *tf_cfg_key_find(const char *key) {
    for (size_t k = 0; k < sizeof k_keys / sizeof k_keys[0]; k++)
        if (!strcmp(k_keys[k].key, key)) return &k_keys[k];
    return NULL;
}

const char *tf_cfg_closest_key(const char *key) {
    size_t best = (size_t)-1;
    const char *out = k_keys[0].key;
    for (size_t k = 0; k < sizeof k_keys / sizeof k_keys[0]; k++) {
        size_t d = tf_edit_distance(key, k_keys[k].key);
        if (d < best) { best = d; out = k_keys[k].key; }
    }
    return out;
}

/* A word in a "a|b|c" (or "a b c") list? */
static int in_list(const char *list, const char *word, char sep) {
    size_t L = strlen(word);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, sep);
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == L && !strncmp(p, word, L)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

typedef struct {
    TfCfgError *err;
    int count;
    size_t used;
    const TfCfgNode *res; /* resolved tree */
} Report;

static void report(Report *r, const char *fmt, ...) TF_PRINTF(2, 3);
static void report(Report *r, const char *fmt, ...) {
    r->count++;
    if (!r->err) return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t cap = sizeof r->err->msg;
    if (r->used + strlen(line) + 8 >= cap) return;
    r->used += (size_t)snprintf(r->err->msg + r->used, cap - r->used, "%s%s", r->count > 1 ? "\n  " : "", line);
}

static void describe_range(const TfCfgKey *k, char *buf, size_t cap) {
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%g", k->lo);
    snprintf(hi, sizeof hi, "%g", k->hi);
    snprintf(buf, cap, "%s%s, %s%s", k->flags & LO ? "(" : "[", lo, hi, k->flags & HI ? ")" : "]");
}

static int in_range(const TfCfgKey *k, double v) {
    if (k->lo > k->hi) return 1;
    if (isnan(v)) return 0;
    if (k->flags & LO ? v <= k->lo : v < k->lo) return 0;
    if (k->flags & HI ? v >= k->hi : v > k->hi) return 0;
    return 1;
}

static void check_scalar(Report *r, const TfCfgKey *k, const char *path, const TfCfgNode *v, TfCfgType t) {
    char rng[96], shown[64];
    describe_range(k, rng, sizeof rng);
    if (t == TF_CFG_BOOL) {
        if (v->type != TF_NODE_BOOL) report(r, "%s: expected true or false, got %s", path, tf_node_type_name(v->type));
        return;
    }
    if (t == TF_CFG_STR) {
        if (v->type != TF_NODE_STR) { report(r, "%s: expected a string, got %s", path, tf_node_type_name(v->type)); return; }
        if (k->choices && !in_list(k->choices, v->s, '|')) {
            const char *best = NULL;
            size_t bd = (size_t)-1;
            char opt[64];
            for (const char *p = k->choices; *p;) {
                size_t n = strcspn(p, "|");
                snprintf(opt, sizeof opt, "%.*s", (int)n, p);
                size_t d = tf_edit_distance(opt, v->s);
                if (d < bd) { bd = d; best = p; }
                p += n + (p[n] == '|');
            }
            report(r, "%s = '%s': must be one of %s (did you mean '%.*s'?)", path, v->s, k->choices,
                   (int)strcspn(best, "|"), best);
        }
        return;
    }
    if (t == TF_CFG_INT && v->type != TF_NODE_INT) {
        report(r, "%s: expected an integer, got %s", path, tf_node_type_name(v->type));
        return;
    }
    if (t == TF_CFG_FLOAT && v->type != TF_NODE_INT && v->type != TF_NODE_FLOAT) {
        report(r, "%s: expected a number, got %s%s%s%s", path, tf_node_type_name(v->type),
               v->type == TF_NODE_STR ? " '" : "", v->type == TF_NODE_STR ? v->s : "",
               v->type == TF_NODE_STR ? "'" : "");
        return;
    }
    double x = v->type == TF_NODE_INT ? (double)v->i : v->f;
    if (v->type == TF_NODE_INT) snprintf(shown, sizeof shown, "%lld", (long long)v->i);
    else tf_format_float(v->f, shown, sizeof shown);
    if (!in_range(k, x)) report(r, "%s = %s: out of range, must be in %s", path, shown, rng);
}

static int visit(const char *path, const TfCfgNode *v, void *ctx) {
    Report *r = ctx;
    const TfCfgKey *k = tf_cfg_key_find(path);
    if (!k) {
        report(r, "unknown key '%s' (did you mean '%s'?)", path, tf_cfg_closest_key(path));
        return 0;
    }
    if (v->type == TF_NODE_MISSING) return 0; /* reported before */
    if (v->type == TF_NODE_NULL) {
        if (!(k->flags & N)) report(r, "%s: must not be null", path);
        return 0;
    }
    if (k->type == TF_CFG_INT_LIST || k->type == TF_CFG_FLOAT_LIST) {
        if (v->type != TF_NODE_LIST) { report(r, "%s: expected a list, got %s", path, tf_node_type_name(v->type)); return 0; }
        if (v->n > 16) { report(r, "%s: over 16 elements", path); return 0; }
        for (size_t i = 0; i < v->n; i++) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            check_scalar(r, k, sub, v->items[i], k->type == TF_CFG_INT_LIST ? TF_CFG_INT : TF_CFG_FLOAT);
        }
        return 0;
    }
    check_scalar(r, k, path, v, k->type);
    return 0;
}

static int visit_missing(const char *path, const TfCfgNode *v, void *ctx) {
    if (v->type == TF_NODE_MISSING) report(ctx, "missing mandatory value '%s' (`?\?\?`): set it with %s=VALUE", path, path);
    return 0;
}

/* Typed reads of the resolved tree for the cross-key rules; absent or mistyped -> fallback. */
static const TfCfgNode *node_at(const Report *r, const char *key) { return tf_node_find(r->res, key); }
static int64_t ival(const Report *r, const char *key, int64_t fb) {
    const TfCfgNode *n = node_at(r, key);
    return n && n->type == TF_NODE_INT ? n->i : fb;
}
static double nval(const Report *r, const char *key, double fb) {
    const TfCfgNode *n = node_at(r, key);
    return n && n->type == TF_NODE_INT ? (double)n->i : n && n->type == TF_NODE_FLOAT ? n->f : fb;
}
static const char *sval(const Report *r, const char *key) {
    const TfCfgNode *n = node_at(r, key);
    return n && n->type == TF_NODE_STR ? n->s : "";
}

static void check_requires(Report *r) {
    char key[128];
    for (const char *p = k_always; *p;) {
        size_t n = strcspn(p, " ");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        if (!node_at(r, key)) report(r, "missing key '%s' (it is required; was it deleted with ~%s?)", key, key);
        p += n + (p[n] == ' ');
    }
    for (size_t k = 0; k < sizeof k_requires / sizeof k_requires[0]; k++) {
        const char *v = sval(r, k_requires[k].key);
        if (!v[0] || !in_list(k_requires[k].values, v, '|')) continue;
        for (const char *p = k_requires[k].needs; *p;) {
            size_t n = strcspn(p, " ");
            snprintf(key, sizeof key, "%.*s", (int)n, p);
            if (!node_at(r, key)) report(r, "missing key '%s', needed when %s=%s (add it with +%s=VALUE)", key,
                                      k_requires[k].key, v, key);
            p += n + (p[n] == ' ');
        }
    }
}

/* Fuzzing fix (tests/fuzz_regressions/override): the cross-key checks below multiply and
 * shift values that may be far out of their ranges (already reported by then, but the checks
 * still run): a * b into *out, or 0 when it does not fit in int64 (that check is skipped, or
 * counts as too large). */
static int mul64(int64_t a, int64_t b, int64_t *out) {
    if (a == 0 || b == 0) { *out = 0; return 1; }
    if (a == INT64_MIN || b == INT64_MIN) return 0;
    if ((a < 0 ? -a : a) > INT64_MAX / (b < 0 ? -b : b)) return 0;
    *out = a * b;
    return 1;
}

static void check_cross(Report *r, int world) {
    int64_t batch = ival(r, "dataset.batch_size", 0);
    if (world < 1) world = 1;
    if (batch > 0 && batch % world)
        report(r, "dataset.batch_size = %lld is the GLOBAL batch and must be divisible by the world size %d "
                  "(e.g. %lld)", (long long)batch, world,
               (long long)(batch / world ? batch / world * world : world));
    int64_t micro = ival(r, "trainer.micro_batch", 0), local = batch / world;
    if (micro > 0 && local > 0 && (micro > local || local % micro))
        report(r, "trainer.micro_batch = %lld must divide the per-rank batch %lld (= %lld / %d ranks)",
               (long long)micro, (long long)local, (long long)batch, world);
    const TfCfgNode *steps = node_at(r, "trainer.steps"), *epochs = node_at(r, "trainer.epochs");
    int has_steps = steps && steps->type != TF_NODE_NULL, has_epochs = epochs && epochs->type != TF_NODE_NULL;
    if (steps && epochs && has_steps == has_epochs)
        report(r, "set exactly one of trainer.steps and trainer.epochs (the other null)");
    const char *ds = sval(r, "dataset.name");
    for (size_t k = 0; k < sizeof k_datasets / sizeof k_datasets[0]; k++) {
        if (strcmp(ds, k_datasets[k].name)) continue;
        int64_t f[3] = {k_datasets[k].ch, k_datasets[k].size, k_datasets[k].classes};
        const char *keys[3] = {"dataset.channels", "dataset.image_size", "dataset.num_classes"};
        for (int j = 0; j < 3; j++)
            if (ival(r, keys[j], f[j]) != f[j])
                report(r, "%s = %lld does not match %s (%lld)", keys[j], (long long)ival(r, keys[j], 0), ds, (long long)f[j]);
        if (k_datasets[k].size == 1 && ival(r, "dataset.n_samples", batch) < batch)
            report(r, "dataset.n_samples = %lld is smaller than one global batch (%lld)",
                   (long long)ival(r, "dataset.n_samples", 0), (long long)batch);
    }
    const char *model = sval(r, "model.name");
    int64_t ch = ival(r, "dataset.channels", 0), size = ival(r, "dataset.image_size", 0);
    if (ival(r, "model.in_ch", ch) != ch || ival(r, "model.image_size", size) != size)
        report(r, "model input %lldx%lld does not match the dataset's %lldx%lld (model.in_ch / model.image_size)",
               (long long)ival(r, "model.in_ch", 0), (long long)ival(r, "model.image_size", 0), (long long)ch, (long long)size);
    if (!strcmp(model, "mlp") && size > 1) report(r, "model.name = mlp takes 2-D toy data, not %s images (use model=unet)", ds);
    if (strcmp(model, "mlp") && model[0] && size == 1) report(r, "model.name = %s takes images; %s is 2-D toy data (use model=mlp)", model, ds);
    int64_t ncls = ival(r, "model.num_classes", 0), dcls = ival(r, "dataset.num_classes", 0);
    if (ncls && ncls != dcls)
        report(r, "model.num_classes = %lld must be 0 (unconditional) or the dataset's %lld", (long long)ncls, (long long)dcls);
    const TfCfgNode *mult = node_at(r, "model.ch_mult");
    int64_t base = ival(r, "model.base_ch", 0), groups = ival(r, "model.groups", 1), heads = ival(r, "model.heads", 1);
    if (mult && mult->type == TF_NODE_LIST && !strcmp(model, "unet")) {
        if (mult->n == 0) report(r, "model.ch_mult must not be empty");
        if (mult->n && (mult->n > 62 || size % ((int64_t)1 << (mult->n - 1)))) /* fuzzing fix: shift < 63 */
            report(r, "model.image_size = %lld cannot be halved %zu times (model.ch_mult has %zu levels)",
                   (long long)size, mult->n - 1, mult->n);
        const TfCfgNode *attn = node_at(r, "model.attn_res");
        for (size_t a = 0; attn && attn->type == TF_NODE_LIST && a < attn->n; a++) {
            int64_t res = attn->items[a]->type == TF_NODE_INT ? attn->items[a]->i : -1, lvl = -1;
            for (size_t l = 0; l < mult->n && l < 63; l++) if ((size >> l) == res) lvl = (int64_t)l;
            if (lvl < 0) { report(r, "model.attn_res: %lld is not a resolution of the U-Net (%lld halved per level)", (long long)res, (long long)size); continue; }
            const TfCfgNode *m = mult->items[lvl];
            int64_t chans;
            if (m->type == TF_NODE_INT && heads > 0 && mul64(base, m->i, &chans) && chans % heads)
                report(r, "model.heads = %lld must divide the %lld channels at resolution %lld", (long long)heads,
                       (long long)chans, (long long)res);
        }
        for (size_t l = 0; l < mult->n; l++) {
            const TfCfgNode *m = mult->items[l];
            int64_t chans;
            if (m->type == TF_NODE_INT && groups > 0 && mul64(base, m->i, &chans) && chans % groups)
                report(r, "model.groups = %lld must divide the %lld channels of level %zu (base_ch * ch_mult[%zu])",
                       (long long)groups, (long long)chans, l, l);
        }
        /* fuzzing fix: model.groups=0 divided by zero here (the test came after the division) */
        if (groups > 0 && base % groups) report(r, "model.groups = %lld must divide model.base_ch = %lld", (long long)groups, (long long)base);
    }
    for (int g = 0; g < 2; g++) {
        const char *key = g ? "eval.solver.guidance_interval" : "solver.guidance_interval";
        const TfCfgNode *iv = node_at(r, key);
        if (!iv || iv->type != TF_NODE_LIST) continue;
        if (iv->n != 2) { report(r, "%s must have 2 elements [lo, hi], not %zu", key, iv->n); continue; }
        double b[2];
        for (int e = 0; e < 2; e++) {
            const TfCfgNode *x = iv->items[e];
            b[e] = x->type == TF_NODE_INT ? (double)x->i : x->type == TF_NODE_FLOAT ? x->f : (double)e;
        }
        if (b[0] >= b[1]) report(r, "%s = [%g, %g]: lo must be below hi", key, b[0], b[1]);
    }
    const TfCfgNode *betas = node_at(r, "optim.betas");
    if (betas && betas->type == TF_NODE_LIST && betas->n != 2) report(r, "optim.betas must have 2 elements, not %zu", betas->n);
    if (nval(r, "optim.lr", 0) > 0 && nval(r, "lr_schedule.min_lr", 0) > nval(r, "optim.lr", 1e9))
        report(r, "lr_schedule.min_lr = %g exceeds optim.lr = %g", nval(r, "lr_schedule.min_lr", 0), nval(r, "optim.lr", 0));
    if (has_steps && ival(r, "lr_schedule.warmup_steps", 0) >= ival(r, "trainer.steps", 0))
        report(r, "lr_schedule.warmup_steps = %lld must be below trainer.steps = %lld",
               (long long)ival(r, "lr_schedule.warmup_steps", 0), (long long)ival(r, "trainer.steps", 0));
    if (node_at(r, "path.beta_min") && nval(r, "path.beta_min", 0) >= nval(r, "path.beta_max", 1e9))
        report(r, "path.beta_min must be below path.beta_max");
    int64_t rows = ival(r, "eval.grid_rows", 0), cols = ival(r, "eval.grid_cols", 0);
    int64_t cells;
    if (!mul64(rows, cols, &cells)) cells = INT64_MAX;
    if (cells > ival(r, "eval.n_samples", 0))
        report(r, "eval.grid_rows x eval.grid_cols = %lld exceeds eval.n_samples = %lld", (long long)cells,
               (long long)ival(r, "eval.n_samples", 0));
    if ((rows == 0) != (cols == 0)) report(r, "eval.grid_rows and eval.grid_cols must both be 0 or both positive");
}

int tf_cfg_validate(const TfCfg *cfg, int world_size, TfCfgError *err) {
    Report r = {.err = err, .count = 0, .used = 0};
    if (err) err->msg[0] = err->hint[0] = '\0';
    tf_node_walk(cfg->root, visit_missing, &r);
    TfCfgNode *res = NULL;
    TfCfgError ierr;
    if (tf_cfg_resolve_tree(cfg->root, &res, &ierr)) {
        report(&r, "%s", ierr.msg);
        if (err && ierr.hint[0]) snprintf(err->hint, sizeof err->hint, "%s", ierr.hint);
        return -1;
    }
    r.res = res;
    tf_node_walk(res, visit, &r);
    check_requires(&r);
    check_cross(&r, world_size);
    tf_node_free(res);
    if (!r.count) return 0;
    if (err && !err->hint[0])
        snprintf(err->hint, sizeof err->hint, "%s; docs/config.md lists every key with its type and range",
                 r.count > 1 ? "fix the values above" : "fix the value");
    return -1;
}
