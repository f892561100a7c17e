/* classifier.c - the feature classifier: configurations, checkpoint save/load, hashing,
 * batched features/logits and accuracy (see classifier.h). Must not know about MPI, flow
 * models or FID. */
#include "eval/classifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt/ckpt.h"
#include "core/check.h"
#include "eval/run_model.h"

TfModelConfig tf_classifier_default_config(int in_ch, int image_size, int classes) {
    TfModelConfig c = tf_model_config_named(in_ch == 3 ? "classifier_cifar" : "classifier_mnist");
    c.in_ch = in_ch;
    c.image_size = image_size;
    c.num_classes = classes;
    return c;
}

void tf_u8_to_float(const uint8_t *px, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = (float)px[i] / 127.5f - 1.0f;
}

static int arch_line(const TfModelConfig *c, char *buf, size_t cap) {
    return snprintf(buf, cap, "classifier in_ch=%d image_size=%d num_classes=%d width=%d feat_dim=%d groups=%d",
                    c->in_ch, c->image_size, c->num_classes, c->width, c->feat_dim, c->groups);
}

void tf_classifier_rehash(TfClassifier *c) {
    char line[256];
    int n = arch_line(&c->cfg, line, sizeof line);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)line[i]) * 1099511628211ULL;
    const TfTape *tp = &c->tape;
    float *buf = tf_malloc(sizeof(float) * (tp->n_param_floats ? tp->n_param_floats : 1));
    tp->be->download(buf, tp->param, sizeof(float) * tp->n_param_floats);
    const unsigned char *b = (const unsigned char *)buf;
    for (size_t i = 0; i < sizeof(float) * tp->n_param_floats; i++) h = (h ^ b[i]) * 1099511628211ULL;
    free(buf);
    snprintf(c->hash, sizeof c->hash, "%016llx", (unsigned long long)h);
}

static void finish_init(TfClassifier *c, int batch) {
    int w = c->cfg.feat_dim > c->cfg.num_classes ? c->cfg.feat_dim : c->cfg.num_classes;
    c->host = tf_malloc(sizeof(float) * (size_t)batch * (size_t)w);
    c->tape.training = 0;
}

void tf_classifier_wrap(TfClassifier *c, const TfModelConfig *cfg, const TfTape *params, int batch,
                        const char *dataset) {
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->recorded_accuracy = -1;
    snprintf(c->dataset, sizeof c->dataset, "%s", dataset ? dataset : "");
    tf_model_build(&c->tape, cfg, params->be, batch, TF_BUILD_INFERENCE, 0, params);
    finish_init(c, batch);
    tf_classifier_rehash(c);
}

int tf_classifier_load(const char *path, int batch, TfClassifier *c, char *err, size_t cap) {
    memset(c, 0, sizeof *c);
    TfCkpt *ck = NULL;
    if (tf_run_open_checkpoint(path, &ck, err, cap)) return -1;
    TfRunModel rm;
    int rc = 0;
    if (!ck->meta.arch || strcmp(ck->meta.arch, "classifier")) {
        snprintf(err, cap, "'%s' is a checkpoint of a '%s' model, not of the feature classifier "
                           "(train one with `tinyflow classifier train`)", ck->path, ck->meta.arch ? ck->meta.arch : "?");
        rc = -1;
    } else if (tf_run_model_from_text(ck->meta.config_text ? ck->meta.config_text : "", &rm, err, cap)) {
        rc = -1;
    } else if (rm.model.kind != TF_MODEL_CLASSIFIER) {
        snprintf(err, cap, "'%s': its config describes a %s, not a classifier", ck->path, tf_model_kind_name(rm.model.kind));
        rc = -1;
    }
    if (!rc) {
        c->cfg = rm.model;
        c->recorded_accuracy = -1;
        snprintf(c->dataset, sizeof c->dataset, "%s", rm.dataset);
        snprintf(c->path, sizeof c->path, "%s", ck->path);
        const char *acc = strstr(ck->meta.config_text, "test_accuracy:");
        if (acc) c->recorded_accuracy = strtod(acc + 14, NULL);
        tf_model_build(&c->tape, &c->cfg, tf_backend_cpu(), batch, TF_BUILD_INFERENCE, 0, NULL);
        rc = tf_run_load_params(ck, "param", "classifier", &c->tape, err, cap);
        if (rc) tf_tape_free(&c->tape);
    }
    tf_ckpt_free(ck);
    if (rc) return -1;
    finish_init(c, c->tape.batch);
    tf_classifier_rehash(c);
    return 0;
}

void tf_classifier_free(TfClassifier *c) {
    if (c->tape.nodes) tf_tape_free(&c->tape);
    free(c->host);
    memset(c, 0, sizeof *c);
}

void tf_classifier_run(TfClassifier *c, const float *x, int64_t n, float *features, float *logits) {
    TfTape *tp = &c->tape;
    const TfBackend *be = tp->be;
    const int B = tp->batch, D = c->cfg.feat_dim, K = c->cfg.num_classes;
    const size_t per = (size_t)c->cfg.in_ch * c->cfg.image_size * c->cfg.image_size;
    float *in = tf_tape_data(tp, tp->input);
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int m = n - i0 < B ? (int)(n - i0) : B;
        be->upload(in, x + (size_t)i0 * per, sizeof(float) * per * (size_t)m);
        if (m < B) be->zero(in + per * (size_t)m, sizeof(float) * per * (size_t)(B - m));
        tp->training = 0;
        tf_tape_forward(tp);
        if (features) {
            be->download(c->host, tf_tape_data(tp, tp->features), sizeof(float) * (size_t)m * D);
            memcpy(features + (size_t)i0 * D, c->host, sizeof(float) * (size_t)m * D);
        }
        if (logits) {
            be->download(c->host, tf_tape_data(tp, tp->output), sizeof(float) * (size_t)m * K);
            memcpy(logits + (size_t)i0 * K, c->host, sizeof(float) * (size_t)m * K);
        }
    }
}

double tf_classifier_accuracy(TfClassifier *c, const TfDataset *ds, int64_t limit) {
    const int B = c->tape.batch, K = c->cfg.num_classes;
    const size_t per = (size_t)ds->c * ds->h * ds->w;
    if (!ds->pixels || ds->c != c->cfg.in_ch || ds->h != c->cfg.image_size || ds->w != c->cfg.image_size)
        tf_die_usage("use the dataset the classifier was trained for", "classifier for %dx%dx%d images cannot score %s (%dx%dx%d)",
                     c->cfg.in_ch, c->cfg.image_size, c->cfg.image_size, ds->name, ds->c, ds->h, ds->w);
    if (K != ds->num_classes) tf_die_usage("use the dataset the classifier was trained for", "classifier has %d classes, %s has %d", K, ds->name, ds->num_classes);
    const int64_t n = limit > 0 && limit < ds->n ? limit : ds->n;
    float *x = tf_malloc(sizeof(float) * per * (size_t)B), *lg = tf_malloc(sizeof(float) * (size_t)B * K);
    int64_t right = 0;
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int m = n - i0 < B ? (int)(n - i0) : B;
        tf_u8_to_float(ds->pixels + (size_t)i0 * per, per * (size_t)m, x);
        tf_classifier_run(c, x, m, NULL, lg);
        for (int i = 0; i < m; i++) {
            int best = 0;
            for (int k = 1; k < K; k++) if (lg[(size_t)i * K + k] > lg[(size_t)i * K + best]) best = k;
            right += best == ds->labels[i0 + i];
        }
    }
    free(x);
    free(lg);
    return n ? (double)right / (double)n : 0.0;
}

int tf_classifier_save(const char *dir, const TfModelConfig *cfg, const TfTape *tp, const char *dataset,
                       double test_accuracy, uint64_t steps, uint64_t seed, double seconds, char *path_out,
                       size_t path_cap, char *err, size_t cap) {
    char text[2048];
    snprintf(text, sizeof text,
             "model:\n  name: classifier\n  in_ch: %d\n  image_size: %d\n  num_classes: %d\n  width: %d\n"
             "  feat_dim: %d\n  groups: %d\n  dropout: %.9g\ndataset:\n  name: %s\nclassifier:\n"
             "  test_accuracy: %.6f\n  steps: %llu\n  seed: %llu\n  train_seconds: %.1f\n",
             cfg->in_ch, cfg->image_size, cfg->num_classes, cfg->width, cfg->feat_dim, cfg->groups,
             (double)cfg->dropout, dataset && dataset[0] ? dataset : "unknown", test_accuracy,
             (unsigned long long)steps, (unsigned long long)seed, seconds);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(err, cap, "cannot create the checkpoint directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    int n;
    TfCkptTensor *t = tf_run_tensors(tp, "param", &n);
    TfCkptMeta meta;
    memset(&meta, 0, sizeof meta);
    meta.arch = "classifier";
    meta.config_text = text;
    meta.step = steps;
    meta.seed = seed;
    meta.world_size = 1;
    meta.train_seconds = seconds;
    int rc = tf_ckpt_save(dir, &meta, t, n, path_out, path_cap, err, cap);
    tf_run_tensors_free(t, n);
    return rc;
}
