/* access.c - typed reads of a composed config, YAML dumps, atomic saves, sweep expansion.
 * Knows nothing about the modules that read the values. */
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "config/yaml_io.h"
#include "core/check.h"

TfCfgNode *tf_cfg_resolved(const TfCfg *cfg, const char *key, TfCfgError *err) {
    const TfCfgNode *n = tf_node_find(cfg->root, key);
    if (!n) {
        char near[256];
        tf_cfg_closest_path(cfg->root, key, NULL, 0, near, sizeof near);
        tf_cfg_fail(err, "add it with +KEY=VALUE, or check the spelling",
                    "config key '%s' is not in the config (did you mean '%s'?)", key, near);
        return NULL;
    }
    if (n->type == TF_NODE_MISSING) {
        char hint[400];
        snprintf(hint, sizeof hint, "set it on the command line: %s=VALUE", key);
        tf_cfg_fail(err, hint, "missing mandatory value '%s' (`?\?\?`)", key);
        return NULL;
    }
    TfCfgNode *out = NULL;
    if (tf_cfg_resolve_node(cfg->root, n, key, &out, err)) return NULL;
    return out;
}

/* Resolve or end the program (exit 2) naming the key. */
static TfCfgNode *must(const TfCfg *cfg, const char *key) {
    TfCfgError err;
    TfCfgNode *n = tf_cfg_resolved(cfg, key, &err);
    if (!n) tf_die_usage(err.hint[0] ? err.hint : NULL, "%s", err.msg);
    return n;
}

TF_NORETURN static void wrong_type(TfCfgNode *n, const char *key, const char *want) {
    TfCfgNodeType t = n->type;
    tf_node_free(n);
    tf_die_usage("docs/config.md lists every key with its type", "config key '%s' is %s %s, not %s", key,
                 t == TF_NODE_INT ? "an" : "a", tf_node_type_name(t), want);
}

int tf_cfg_has(const TfCfg *cfg, const char *key) {
    const TfCfgNode *n = tf_node_find(cfg->root, key);
    if (!n || n->type == TF_NODE_NULL) return 0;
    if (!tf_node_is_interp(n)) return 1;
    TfCfgNode *r = must(cfg, key);
    int has = r->type != TF_NODE_NULL;
    tf_node_free(r);
    return has;
}

int tf_cfg_is_null(const TfCfg *cfg, const char *key) {
    const TfCfgNode *n = tf_node_find(cfg->root, key);
    if (!n) return 0;
    TfCfgNode *r = must(cfg, key);
    int is = r->type == TF_NODE_NULL;
    tf_node_free(r);
    return is;
}

int64_t tf_cfg_get_int(const TfCfg *cfg, const char *key) {
    TfCfgNode *n = must(cfg, key);
    if (n->type != TF_NODE_INT) wrong_type(n, key, "an int");
    int64_t v = n->i;
    tf_node_free(n);
    return v;
}

double tf_cfg_get_float(const TfCfg *cfg, const char *key) {
    TfCfgNode *n = must(cfg, key);
    if (n->type != TF_NODE_INT && n->type != TF_NODE_FLOAT) wrong_type(n, key, "a number");
    double v = n->type == TF_NODE_INT ? (double)n->i : n->f;
    tf_node_free(n);
    return v;
}

int tf_cfg_get_bool(const TfCfg *cfg, const char *key) {
    TfCfgNode *n = must(cfg, key);
    if (n->type != TF_NODE_BOOL) wrong_type(n, key, "a bool");
    int v = n->b;
    tf_node_free(n);
    return v;
}

const char *tf_cfg_get_str(const TfCfg *cfg, const char *key) {
    TfCfgNode *n = must(cfg, key);
    if (n->type != TF_NODE_STR) wrong_type(n, key, "a string");
    tf_node_list_append(cfg->cache, n); /* owned by cfg from here on */
    return n->s;
}

static size_t get_list(const TfCfg *cfg, const char *key, int64_t *iout, double *fout, size_t max) {
    TfCfgNode *n = must(cfg, key);
    if (n->type != TF_NODE_LIST) wrong_type(n, key, "a list");
    if (n->n > max) {
        size_t len = n->n;
        tf_node_free(n);
        tf_die_usage(NULL, "config key '%s' has %zu elements; at most %zu are supported", key, len, max);
    }
    for (size_t k = 0; k < n->n; k++) {
        const TfCfgNode *it = n->items[k];
        if (iout && it->type == TF_NODE_INT) iout[k] = it->i;
        else if (fout && (it->type == TF_NODE_INT || it->type == TF_NODE_FLOAT))
            fout[k] = it->type == TF_NODE_INT ? (double)it->i : it->f;
        else {
            tf_node_free(n);
            tf_die_usage("docs/config.md lists every key with its type",
                         "config key '%s': element %zu is not %s", key, k, iout ? "an int" : "a number");
        }
    }
    size_t len = n->n;
    tf_node_free(n);
    return len;
}

size_t tf_cfg_get_int_list(const TfCfg *cfg, const char *key, int64_t *out, size_t max) {
    return get_list(cfg, key, out, NULL, max);
}

size_t tf_cfg_get_float_list(const TfCfg *cfg, const char *key, double *out, size_t max) {
    return get_list(cfg, key, NULL, out, max);
}

int tf_cfg_dump(const TfCfg *cfg, FILE *f, int resolve, TfCfgError *err) {
    if (!resolve) { tf_yaml_dump(cfg->root, f); return 0; }
    TfCfgNode *r = NULL;
    if (tf_cfg_resolve_tree(cfg->root, &r, err)) return -1;
    tf_yaml_dump(r, f);
    tf_node_free(r);
    return 0;
}

static int save_node(const TfCfgNode *n, const char *path, TfCfgError *err) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return tf_cfg_fail(err, NULL, "open_memstream failed");
    tf_yaml_dump(n, m);
    fclose(m);
    int rc = tf_write_file_atomic(path, text, len, err);
    free(text);
    return rc;
}

int tf_cfg_save(const TfCfg *cfg, const char *path, TfCfgError *err) { return save_node(cfg->root, path, err); }

int tf_cfg_save_overrides(const char *const *overrides, int n, const char *path, TfCfgError *err) {
    TfCfgNode *list = tf_node_new(TF_NODE_LIST);
    for (int k = 0; k < n; k++) tf_node_list_append(list, tf_node_str(overrides[k]));
    int rc = save_node(list, path, err);
    tf_node_free(list);
    return rc;
}

/* --- sweeps ---------------------------------------------------------------------------- */

int tf_sweep_expand(const char *const *overrides, int n, TfSweep *out, TfCfgError *err) {
    memset(out, 0, sizeof *out);
    out->n_overrides = n;
    TfOverride *ovs = tf_calloc((size_t)(n > 0 ? n : 1), sizeof *ovs);
    int rc = -1, parsed = 0;
    size_t total = 1;
    if (n > 256) { tf_cfg_fail(err, NULL, "more than 256 overrides"); goto out; }
    for (int k = 0; k < n; k++, parsed++) {
        if (tf_override_parse(overrides[k], 1, &ovs[k], err)) goto out;
        if (ovs[k].n_choices) {
            if (total > 100000 / ovs[k].n_choices) { tf_cfg_fail(err, "split the sweep", "the sweep has over 100000 jobs"); goto out; }
            total *= ovs[k].n_choices;
        }
    }
    out->n_jobs = total;
    out->jobs = tf_calloc(total, sizeof *out->jobs);
    for (size_t j = 0; j < total; j++) {
        out->jobs[j] = tf_calloc((size_t)(n > 0 ? n : 1), sizeof **out->jobs);
        /* itertools.product: the last sweep varies fastest. */
        size_t rem = j;
        size_t idx[256] = {0};
        for (int k = n - 1; k >= 0; k--) {
            if (!ovs[k].n_choices) continue;
            idx[k] = rem % ovs[k].n_choices;
            rem /= ovs[k].n_choices;
        }
        for (int k = 0; k < n; k++) {
            const char *text = overrides[k];
            if (!ovs[k].n_choices) {
                size_t L = strlen(text);
                out->jobs[j][k] = tf_malloc(L + 1);
                memcpy(out->jobs[j][k], text, L + 1);
                continue;
            }
            size_t pre = (size_t)(strchr(text, '=') - text) + 1;
            const char *c = ovs[k].choices[idx[k]];
            out->jobs[j][k] = tf_malloc(pre + strlen(c) + 1);
            memcpy(out->jobs[j][k], text, pre);
            memcpy(out->jobs[j][k] + pre, c, strlen(c) + 1);
        }
    }
    rc = 0;
out:
    for (int k = 0; k < parsed; k++) tf_override_free(&ovs[k]);
    free(ovs);
    if (rc) tf_sweep_free(out);
    return rc;
}

void tf_sweep_free(TfSweep *s) {
    for (size_t j = 0; s->jobs && j < s->n_jobs; j++) {
        for (int k = 0; k < s->n_overrides; k++) free(s->jobs[j][k]);
        free(s->jobs[j]);
    }
    free(s->jobs);
    memset(s, 0, sizeof *s);
}
