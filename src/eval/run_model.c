/* run_model.c - rebuild a run's model configuration from its config text and load a
 * checkpoint group into a tape (see run_model.h). Must not know about MPI, sampling or metrics. */
#include "eval/run_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/yaml_io.h"
#include "core/check.h"

typedef struct {
    const TfCfgNode *root;
    char *err;
    size_t cap;
    int bad;
} Reader;

static const TfCfgNode *node(Reader *r, const char *key) { return tf_node_find(r->root, key); }

static int get_int(Reader *r, const char *key, int fallback) {
    const TfCfgNode *n = node(r, key);
    if (!n || n->type == TF_NODE_NULL) return fallback;
    if (n->type != TF_NODE_INT || n->i < -2147483647LL || n->i > 2147483647LL) {
        if (!r->bad++) snprintf(r->err, r->cap, "config key %s: expected an integer", key);
        return fallback;
    }
    return (int)n->i;
}

static float get_float(Reader *r, const char *key, float fallback) {
    const TfCfgNode *n = node(r, key);
    if (!n || n->type == TF_NODE_NULL) return fallback;
    if (n->type == TF_NODE_INT) return (float)n->i;
    if (n->type != TF_NODE_FLOAT) {
        if (!r->bad++) snprintf(r->err, r->cap, "config key %s: expected a number", key);
        return fallback;
    }
    return (float)n->f;
}

static int get_list(Reader *r, const char *key, int *out, int max, int *count) {
    const TfCfgNode *n = node(r, key);
    if (!n) return 0; /* keep the default */
    if (n->type != TF_NODE_LIST || (int)n->n > max) {
        if (!r->bad++) snprintf(r->err, r->cap, "config key %s: expected a list of at most %d integers", key, max);
        return -1;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->type != TF_NODE_INT) {
            if (!r->bad++) snprintf(r->err, r->cap, "config key %s[%zu]: expected an integer", key, i);
            return -1;
        }
        out[i] = (int)n->items[i]->i;
    }
    *count = (int)n->n;
    return 0;
}

static int sched_from(Reader *r, TfScheduler *s) {
    const TfCfgNode *n = node(r, "path.scheduler");
    const char *name = n && n->type == TF_NODE_STR ? n->s : "condot";
    char spec[128];
    if (!strcmp(name, "condot")) {
        float sm = get_float(r, "path.sigma_min", 0.0f);
        if (sm > 0) snprintf(spec, sizeof spec, "ot:%.9g", (double)sm);
        else snprintf(spec, sizeof spec, "condot");
    } else if (!strcmp(name, "polynomial")) snprintf(spec, sizeof spec, "polynomial:%.9g", (double)get_float(r, "path.n", 1.0f));
    else if (!strcmp(name, "lvp")) snprintf(spec, sizeof spec, "linear_vp");
    else if (!strcmp(name, "vp"))
        snprintf(spec, sizeof spec, "vp:%.9g:%.9g", (double)get_float(r, "path.beta_min", 0.1f),
                 (double)get_float(r, "path.beta_max", 20.0f));
    else snprintf(spec, sizeof spec, "%s", name);
    if (tf_scheduler_parse(spec, s)) {
        if (!r->bad++) snprintf(r->err, r->cap, "path.scheduler '%s' is not a known scheduler", name);
        return -1;
    }
    return 0;
}

int tf_run_model_from_tree(const TfCfgNode *root, TfRunModel *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    TfCfgNode *res = NULL;
    TfCfgError ce;
    if (tf_cfg_resolve_tree(root, &res, &ce)) {
        snprintf(err, cap, "config: %s", ce.msg);
        return -1;
    }
    Reader r = {res, err, cap, 0};
    const TfCfgNode *nm = node(&r, "model.name");
    if (!nm || nm->type != TF_NODE_STR) {
        snprintf(err, cap, "config has no model.name (not a tinyflow run config?)");
        tf_node_free(res);
        return -1;
    }
    const TfCfgNode *ds = node(&r, "dataset.name");
    if (ds && ds->type == TF_NODE_STR) snprintf(out->dataset, sizeof out->dataset, "%s", ds->s);
    int in_ch = get_int(&r, "model.in_ch", 1), size = get_int(&r, "model.image_size", 28);
    TfModelConfig c;
    if (!strcmp(nm->s, "unet")) {
        c = tf_model_config_named(in_ch == 3 ? "cifar" : "mnist");
        c.base_ch = get_int(&r, "model.base_ch", c.base_ch);
        get_list(&r, "model.ch_mult", c.ch_mult, TF_MAX_LEVELS, &c.n_mult);
        c.num_res_blocks = get_int(&r, "model.num_res_blocks", c.num_res_blocks);
        get_list(&r, "model.attn_res", c.attn_res, TF_MAX_LEVELS, &c.n_attn);
        c.groups = get_int(&r, "model.groups", c.groups);
        c.heads = get_int(&r, "model.heads", c.heads);
        const TfCfgNode *z = node(&r, "model.zero_init");
        if (z && z->type == TF_NODE_BOOL) c.zero_init = z->b;
        c.num_classes = get_int(&r, "model.num_classes", 0);
        c.temb_dim = get_int(&r, "model.temb_dim", c.temb_dim);
    } else if (!strcmp(nm->s, "mlp")) {
        c = tf_model_config_named("mlp2d");
        c.hidden = get_int(&r, "model.hidden", c.hidden);
        c.layers = get_int(&r, "model.layers", c.layers);
        c.temb_dim = get_int(&r, "model.temb_dim", c.temb_dim);
        c.num_classes = get_int(&r, "model.num_classes", 0);
    } else if (!strcmp(nm->s, "classifier")) {
        c = tf_model_config_named(in_ch == 3 ? "classifier_cifar" : "classifier_mnist");
        c.width = get_int(&r, "model.width", get_int(&r, "model.base_ch", c.width));
        c.feat_dim = get_int(&r, "model.feat_dim", c.feat_dim);
        c.groups = get_int(&r, "model.groups", c.groups);
        c.num_classes = get_int(&r, "model.num_classes", c.num_classes);
    } else {
        snprintf(err, cap, "model.name '%s' is not unet, mlp or classifier", nm->s);
        tf_node_free(res);
        return -1;
    }
    c.in_ch = in_ch;
    c.image_size = get_int(&r, "model.image_size", size);
    c.dropout = get_float(&r, "model.dropout", c.dropout);
    out->model = c;
    sched_from(&r, &out->sched);
    tf_node_free(res);
    return r.bad ? -1 : 0;
}

int tf_run_model_from_text(const char *yaml, TfRunModel *out, char *err, size_t cap) {
    TfCfgNode *root = NULL;
    TfCfgError ce;
    if (tf_yaml_load_string(yaml, strlen(yaml), "checkpoint config", &root, &ce)) {
        snprintf(err, cap, "%s", ce.msg);
        return -1;
    }
    int rc = tf_run_model_from_tree(root, out, err, cap);
    tf_node_free(root);
    return rc;
}

int tf_run_open_checkpoint(const char *path, TfCkpt **out, char *err, size_t cap) {
    struct stat st;
    *out = NULL;
    if (stat(path, &st)) { snprintf(err, cap, "checkpoint '%s' does not exist", path); return -1; }
    if (!S_ISDIR(st.st_mode)) return tf_ckpt_load(path, out, err, cap);
    char buf[4200];
    const char *dir = tf_ckpt_dir_of(path, buf, sizeof buf); /* a run folder: its checkpoints/ */
    int rc = tf_ckpt_find_latest(dir, stderr, out, err, cap);
    if (rc == 0) { snprintf(err, cap, "'%s' holds no complete checkpoint (step_N.ckpt + step_N.done)", dir); return -1; }
    return rc < 0 ? -1 : 0;
}

TfCkptTensor *tf_run_tensors(const TfTape *tp, const char *group, int *n) {
    TfCkptTensor *t = tf_calloc((size_t)(tp->n_params ? tp->n_params : 1), sizeof *t);
    for (int i = 0; i < tp->n_params; i++) {
        const TfParamInfo *p = &tp->params[i];
        size_t L = strlen(p->name) + (group ? strlen(group) + 1 : 0) + 1;
        char *name = tf_malloc(L);
        if (group) snprintf(name, L, "%s/%s", group, p->name);
        else snprintf(name, L, "%s", p->name);
        float *data = tf_malloc(sizeof(float) * (p->numel ? p->numel : 1));
        tp->be->download(data, tp->param + p->offset, sizeof(float) * p->numel);
        t[i].name = name;
        t[i].ndim = p->ndim;
        memcpy(t[i].shape, p->shape, sizeof t[i].shape);
        t[i].numel = p->numel;
        t[i].data = data;
    }
    *n = tp->n_params;
    return t;
}

void tf_run_tensors_free(TfCkptTensor *t, int n) {
    for (int i = 0; i < n; i++) {
        free((void *)t[i].name);
        free((void *)t[i].data);
    }
    free(t);
}

int tf_run_load_params(const TfCkpt *ck, const char *group, const char *arch, TfTape *tp, char *err, size_t cap) {
    int n;
    TfCkptTensor *mine = tf_run_tensors(tp, NULL, &n);
    int rc = tf_ckpt_check_signature(ck, arch, mine, n, NULL, err, cap);
    for (int i = 0; !rc && i < n; i++) {
        char full[TF_CKPT_NAME_MAX + 8];
        snprintf(full, sizeof full, "%s/%s", group, mine[i].name);
        const TfCkptTensor *t = tf_ckpt_tensor(ck, full);
        if (!t) {
            snprintf(err, cap, "checkpoint '%s' has no tensor '%s'%s", ck->path, full,
                     !strcmp(group, "ema") ? " (saved without EMA? use eval.use_ema=false)" : "");
            rc = -1;
        } else if (t->numel != mine[i].numel) {
            snprintf(err, cap, "checkpoint '%s': tensor '%s' has %zu values, the model %zu", ck->path, full, t->numel,
                     mine[i].numel);
            rc = -1;
        } else {
            tp->be->upload(tp->param + tp->params[i].offset, t->data, sizeof(float) * t->numel);
        }
    }
    tf_run_tensors_free(mine, n);
    return rc;
}
