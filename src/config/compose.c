/* compose.c - Hydra composition: defaults lists, config groups, `# @package _global_`,
 * `override /group: option` in experiment files, an option extending another option of its
 * own group (`- mnist` in experiment/fashion_mnist.yaml: the base is merged first, then the
 * file), and the command-line overrides.
 * Knows nothing about tinyflow's keys (schema.c) or how a run is launched. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg_internal.h"
#include "config/yaml_io.h"
#include "core/check.h"

#define MAX_ENTRIES TF_CFG_MAX_GROUPS

typedef struct {
    char group[128];  /* "" for _self_ */
    char option[128]; /* "" for null */
    int is_self;
    int cli_set;      /* chosen on the command line: experiment overrides do not apply */
    TfCfgNode *loaded;   /* the option file, defaults removed */
    char loaded_option[128];
    int global_pkg;
} Entry;

typedef struct {
    Entry e[MAX_ENTRIES];
    size_t n;
} Defaults;

static int is_dir(const char *path) {
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int is_group(const char *dir, const char *name) {
    char p[2048];
    if (strchr(name, '.')) return 0;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return is_dir(p);
}

/* A group name: segments of [A-Za-z0-9_-] joined by single '/' (no empty, '.' or '..' segment).
 * Fuzzing fix (tests/fuzz_regressions/config/crash-model-slash): `- model/: unet` made a
 * package "model." that could not be created, and the merge then dereferenced NULL. */
static int valid_group_name(const char *g) {
    if (!*g || strlen(g) >= 128) return 0;
    int seg = 0;
    for (const char *c = g; *c; c++) {
        if (*c == '/') {
            if (!seg) return 0;
            seg = 0;
        } else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                   *c == '-') {
            seg++;
        } else {
            return 0;
        }
    }
    return seg > 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "a, b, c" of the .yaml files in dir/group, and the closest one to `want`. */
static void list_options(const char *dir, const char *group, const char *want, char *list, size_t cap,
                         char *closest, size_t ccap) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, group);
    list[0] = closest[0] = '\0';
    DIR *d = opendir(p);
    if (!d) return;
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        size_t L = strlen(de->d_name);
        if (L > 5 && !strcmp(de->d_name + L - 5, ".yaml")) {
            names[n] = tf_malloc(L - 4);
            memcpy(names[n], de->d_name, L - 5);
            names[n][L - 5] = '\0';
            n++;
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    size_t best = (size_t)-1, used = 0;
    for (size_t k = 0; k < n; k++) {
        used += (size_t)snprintf(list + used, used < cap ? cap - used : 0, "%s%s", k ? ", " : "", names[k]);
        if (used >= cap) used = cap - 1;
        size_t dist = tf_edit_distance(names[k], want);
        if (dist < best) { best = dist; snprintf(closest, ccap, "%s", names[k]); }
        free(names[k]);
    }
}

static int load_base(const char *dir, const char *group, const char *name, int depth, Defaults *into,
                     TfCfgNode **out, int *global_pkg, TfCfgError *err);

/* Read a defaults list (removing it from node). Primary files take `group: option`, `_self_`;
 * option files also `override /group: option`, which are applied to `into`, and one plain
 * name: another option of the same group (dir/group/NAME.yaml) that this file extends; it is
 * loaded (with its own defaults, applied first) into *base. */
static int read_defaults(TfCfgNode *node, const char *file, int primary, Defaults *into, const char *dir,
                         const char *group, int depth, TfCfgNode **base, int *base_global, TfCfgError *err) {
    TfCfgNode *dl = tf_node_dict_get(node, "defaults");
    if (!dl) {
        if (primary && into->n < MAX_ENTRIES) into->e[into->n++].is_self = 1;
        return 0;
    }
    if (dl->type != TF_NODE_LIST) return tf_cfg_fail(err, NULL, "%s: 'defaults' must be a list", file);
    int saw_self = 0;
    for (size_t k = 0; k < dl->n; k++) {
        const TfCfgNode *it = dl->items[k];
        if (it->type == TF_NODE_STR && !strcmp(it->s, "_self_")) {
            if (primary && into->n < MAX_ENTRIES) into->e[into->n++].is_self = 1;
            saw_self = 1;
            continue;
        }
        if (!primary && it->type == TF_NODE_STR && base) {
            if (*base)
                return tf_cfg_fail(err, "an option extends at most one other option", "%s: defaults entry %zu "
                                   "names a second base option '%s'", file, k + 1, it->s);
            if (load_base(dir, group, it->s, depth + 1, into, base, base_global, err)) return -1;
            continue;
        }
        if (it->type != TF_NODE_DICT || it->n != 1)
            return tf_cfg_fail(err, "entries look like `- group: option`, `- _self_`, `- override /group: option` "
                               "or (in an option file) `- other_option_of_this_group`",
                               "%s: defaults entry %zu is not understood", file, k + 1);
        const char *key = it->keys[0];
        const TfCfgNode *val = it->items[0];
        int is_override = !strncmp(key, "override ", 9);
        if (is_override) key += 9;
        while (*key == ' ' || *key == '/') key++;
        if (!valid_group_name(key))
            return tf_cfg_fail(err, "a group is a folder name such as `model` or `a/b`", "%s: defaults entry %zu: "
                               "'%s' is not a config group name", file, k + 1, key);
        char option[128] = "";
        if (val->type == TF_NODE_STR) snprintf(option, sizeof option, "%s", val->s);
        else if (val->type != TF_NODE_NULL)
            return tf_cfg_fail(err, NULL, "%s: defaults entry '%s' needs an option name or null", file, key);
        Entry *found = NULL;
        for (size_t j = 0; j < into->n; j++)
            if (!into->e[j].is_self && !strcmp(into->e[j].group, key)) found = &into->e[j];
        if (primary) {
            if (is_override) return tf_cfg_fail(err, NULL, "%s: 'override' in the primary defaults list", file);
            if (found) return tf_cfg_fail(err, NULL, "%s: group '%s' appears twice in defaults", file, key);
        } else if (found && !is_override) {
            return tf_cfg_fail(err, "write `- override /GROUP: OPTION` to change a group chosen elsewhere",
                               "%s: group '%s' is already in the defaults list", file, key);
        } else if (!found && is_override) {
            return tf_cfg_fail(err, NULL, "%s: cannot override group '%s': it is not in the defaults list", file, key);
        }
        if (found) {
            if (!found->cli_set) snprintf(found->option, sizeof found->option, "%s", option);
            continue;
        }
        if (into->n == MAX_ENTRIES) return tf_cfg_fail(err, NULL, "%s: too many defaults entries", file);
        Entry *e = &into->e[into->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->group, sizeof e->group, "%s", key);
        snprintf(e->option, sizeof e->option, "%s", option);
    }
    if (primary && !saw_self && into->n < MAX_ENTRIES) into->e[into->n++].is_self = 1;
    tf_node_dict_remove(node, "defaults");
    return 0;
}

static int load_option(const char *dir, Entry *e, Defaults *d, TfCfgError *err) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s.yaml", dir, e->group, e->option);
    struct stat st;
    if (stat(path, &st)) {
        char list[1024], closest[128];
        list_options(dir, e->group, e->option, list, sizeof list, closest, sizeof closest);
        if (!list[0])
            return tf_cfg_fail(err, NULL, "config group '%s' does not exist (no folder %s/%s)", e->group, dir, e->group);
        char hint[1200];
        snprintf(hint, sizeof hint, "options of '%s': %s", e->group, list);
        return tf_cfg_fail(err, hint, "config group '%s' has no option '%s'; did you mean '%s'?", e->group,
                           e->option, closest);
    }
    tf_node_free(e->loaded);
    e->loaded = NULL;
    if (tf_yaml_load_file(path, &e->loaded, &e->global_pkg, err)) return -1;
    snprintf(e->loaded_option, sizeof e->loaded_option, "%s", e->option);
    TfCfgNode *base = NULL;
    int base_global = 0;
    if (read_defaults(e->loaded, path, 0, d, dir, e->group, 0, &base, &base_global, err)) {
        tf_node_free(base);
        return -1;
    }
    if (base) {
        if (base_global != e->global_pkg) {
            tf_node_free(base);
            return tf_cfg_fail(err, "give both files the same `# @package` line", "%s and the option it extends "
                               "differ in `# @package _global_`", path);
        }
        tf_node_merge(base, e->loaded); /* the file's own keys win over its base's */
        tf_node_free(e->loaded);
        e->loaded = base;
    }
    return 0;
}

static int load_base(const char *dir, const char *group, const char *name, int depth, Defaults *into,
                     TfCfgNode **out, int *global_pkg, TfCfgError *err) {
    if (depth > 8) return tf_cfg_fail(err, NULL, "options of group '%s' extend each other too deeply (a loop?)", group);
    if (!name[0] || strchr(name, '/') || strstr(name, ".."))
        return tf_cfg_fail(err, NULL, "group '%s': '%s' is not an option name", group, name);
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s.yaml", dir, group, name);
    struct stat st;
    if (stat(path, &st)) {
        char list[1024], closest[128], hint[1200];
        list_options(dir, group, name, list, sizeof list, closest, sizeof closest);
        snprintf(hint, sizeof hint, "options of '%s': %s", group, list);
        return tf_cfg_fail(err, hint, "config group '%s' has no option '%s' to extend; did you mean '%s'?", group,
                           name, closest);
    }
    TfCfgNode *node = NULL, *base = NULL;
    int base_global = 0;
    if (tf_yaml_load_file(path, &node, global_pkg, err)) return -1;
    if (read_defaults(node, path, 0, into, dir, group, depth, &base, &base_global, err)) {
        tf_node_free(node);
        tf_node_free(base);
        return -1;
    }
    if (base) {
        tf_node_merge(base, node);
        tf_node_free(node);
        node = base;
    }
    *out = node;
    return 0;
}

static void closest_group_or_key(const TfCfg *cfg, const char *key, char *out, size_t cap) {
    const char *extra[TF_CFG_MAX_GROUPS];
    for (size_t k = 0; k < cfg->n_groups; k++) extra[k] = cfg->group[k];
    tf_cfg_closest_path(cfg->root, key, extra, cfg->n_groups, out, cap);
}

static int apply_group_override(const char *dir, Defaults *d, const TfOverride *ov, TfCfgError *err) {
    Entry *found = NULL;
    for (size_t j = 0; j < d->n; j++)
        if (!d->e[j].is_self && !strcmp(d->e[j].group, ov->key)) found = &d->e[j];
    char option[128] = "";
    if (ov->value) {
        if (ov->value->type == TF_NODE_STR) snprintf(option, sizeof option, "%s", ov->value->s);
        else if (ov->value->type == TF_NODE_INT) snprintf(option, sizeof option, "%lld", (long long)ov->value->i);
        else if (ov->value->type != TF_NODE_NULL)
            return tf_cfg_fail(err, NULL, "override '%s': a config group takes an option name", ov->text);
    }
    switch (ov->kind) {
    case TF_OV_DELETE:
        if (!found) return tf_cfg_fail(err, NULL, "could not delete '%s': the group is not in the defaults list", ov->key);
        if (ov->value && strcmp(found->option, option))
            return tf_cfg_fail(err, NULL, "could not delete '%s': its option is '%s', not '%s'", ov->key,
                               found->option, option);
        found->option[0] = '\0';
        found->cli_set = 1;
        return 0;
    case TF_OV_CHANGE:
        if (!found) {
            char hint[300];
            snprintf(hint, sizeof hint, "to add it use +%s=%s", ov->key, option);
            return tf_cfg_fail(err, hint, "could not override '%s': the group is not in the defaults list", ov->key);
        }
        break;
    case TF_OV_ADD:
        if (found && found->option[0]) {
            char hint[300];
            snprintf(hint, sizeof hint, "to change it use %s=%s", ov->key, option);
            return tf_cfg_fail(err, hint, "could not add '%s': the group is already chosen (%s)", ov->key, found->option);
        }
        break;
    case TF_OV_FORCE_ADD: break;
    }
    if (!found) {
        if (d->n == MAX_ENTRIES) return tf_cfg_fail(err, NULL, "too many config groups");
        found = &d->e[d->n++];
        memset(found, 0, sizeof *found);
        snprintf(found->group, sizeof found->group, "%s", ov->key);
    }
    (void)dir;
    snprintf(found->option, sizeof found->option, "%s", option);
    found->cli_set = 1;
    return 0;
}

static void free_defaults(Defaults *d) {
    for (size_t k = 0; k < d->n; k++) tf_node_free(d->e[k].loaded);
}

int tf_cfg_compose(const char *config_dir, const char *config_name, const char *const *overrides,
                   int n_overrides, TfCfg **out, TfCfgError *err) {
    *out = NULL;
    TfCfg *cfg = tf_calloc(1, sizeof *cfg);
    snprintf(cfg->dir, sizeof cfg->dir, "%s", config_dir);
    cfg->cache = tf_node_new(TF_NODE_LIST);
    Defaults d = {.n = 0};
    TfOverride *ovs = tf_calloc((size_t)(n_overrides > 0 ? n_overrides : 1), sizeof *ovs);
    TfCfgNode *primary = NULL;
    int rc = -1, n_parsed = 0;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s.yaml", config_dir, config_name);
    if (!is_dir(config_dir)) {
        tf_cfg_fail(err, "pass --config-dir DIR or set TINYFLOW_CONFIG_DIR", "config directory '%s' not found",
                    config_dir);
        goto out;
    }
    if (tf_yaml_load_file(path, &primary, NULL, err)) goto out;
    if (read_defaults(primary, path, 1, &d, config_dir, "", 0, NULL, NULL, err)) goto out;
    /* Parse every override; group ones change the defaults list now. */
    for (int k = 0; k < n_overrides; k++, n_parsed++)
        if (tf_override_parse(overrides[k], 0, &ovs[k], err)) goto out;
    for (int k = 0; k < n_overrides; k++) {
        int listed = 0;
        for (size_t j = 0; j < d.n; j++) listed |= !d.e[j].is_self && !strcmp(d.e[j].group, ovs[k].key);
        if ((listed || is_group(config_dir, ovs[k].key)) && apply_group_override(config_dir, &d, &ovs[k], err))
            goto out;
    }
    /* Load the chosen options; an experiment's `override` entries may change earlier
     * choices, so repeat until every entry holds the file of its current option. */
    for (int round = 0;; round++) {
        int changed = 0;
        for (size_t j = 0; j < d.n; j++) {
            Entry *e = &d.e[j];
            if (e->is_self || !e->option[0]) { if (!e->option[0]) { tf_node_free(e->loaded); e->loaded = NULL; } continue; }
            if (e->loaded && !strcmp(e->loaded_option, e->option)) continue;
            if (load_option(config_dir, e, &d, err)) goto out;
            changed = 1;
        }
        if (!changed) break;
        if (round > 16) { tf_cfg_fail(err, NULL, "defaults lists override each other in a loop"); goto out; }
    }
    /* Merge in defaults-list order. */
    cfg->root = tf_node_new(TF_NODE_DICT);
    for (size_t j = 0; j < d.n; j++) {
        Entry *e = &d.e[j];
        if (e->is_self) { tf_node_merge(cfg->root, primary); continue; }
        if (cfg->n_groups < TF_CFG_MAX_GROUPS) {
            snprintf(cfg->group[cfg->n_groups], 128, "%s", e->group);
            snprintf(cfg->choice[cfg->n_groups], 128, "%s", e->option);
            cfg->n_groups++;
        }
        if (!e->loaded) continue;
        if (e->global_pkg) { tf_node_merge(cfg->root, e->loaded); continue; }
        char pkg[128];
        snprintf(pkg, sizeof pkg, "%s", e->group);
        for (char *c = pkg; *c; c++) if (*c == '/') *c = '.';
        TfCfgNode *at = tf_node_find(cfg->root, pkg);
        if (!at || at->type != TF_NODE_DICT) {
            TfCfgNode *fresh = tf_node_new(TF_NODE_DICT);
            if (tf_node_set_path(cfg->root, pkg, fresh, 1)) tf_node_free(fresh);
            at = tf_node_find(cfg->root, pkg);
        }
        if (!at || at->type != TF_NODE_DICT) {
            tf_cfg_fail(err, NULL, "config group '%s': cannot place its keys at '%s'", e->group, pkg);
            goto out;
        }
        tf_node_merge(at, e->loaded);
    }
    /* Value overrides, in command-line order. */
    for (int k = 0; k < n_overrides; k++) {
        int is_grp = 0;
        for (size_t j = 0; j < d.n; j++) is_grp |= !d.e[j].is_self && !strcmp(d.e[j].group, ovs[k].key);
        if (is_grp || is_group(config_dir, ovs[k].key)) continue;
        if (tf_cfg_apply_parsed(cfg, &ovs[k], err)) goto out;
    }
    rc = 0;
out:
    for (int k = 0; k < n_parsed; k++) tf_override_free(&ovs[k]);
    free(ovs);
    free_defaults(&d);
    tf_node_free(primary);
    if (rc) tf_cfg_destroy(cfg);
    else *out = cfg;
    return rc;
}

int tf_cfg_apply_parsed(TfCfg *cfg, const TfOverride *ov, TfCfgError *err) {
    TfCfgNode *cur = tf_node_find(cfg->root, ov->key), *copy;
    char near[256], hint[512];
    switch (ov->kind) {
    case TF_OV_CHANGE:
        if (!cur) {
            closest_group_or_key(cfg, ov->key, near, sizeof near);
            snprintf(hint, sizeof hint, "did you mean '%s'? To add a new key use +%s", near, ov->text);
            return tf_cfg_fail(err, hint, "could not override '%s': key '%s' is not in the config (did you mean '%s'?)",
                               ov->text, ov->key, near);
        }
        if (cur->type == TF_NODE_DICT && ov->value->type == TF_NODE_DICT) { tf_node_merge(cur, ov->value); return 0; }
        /* Fuzzing fix (tests/fuzz_regressions/config): tf_node_set_path does not take the value
         * when it fails (e.g. a list index past the end), so free the copy here. */
        if (tf_node_set_path(cfg->root, ov->key, copy = tf_node_copy(ov->value), 0)) {
            tf_node_free(copy);
            return tf_cfg_fail(err, NULL, "could not override '%s'", ov->text);
        }
        return 0;
    case TF_OV_ADD:
        if (cur) {
            snprintf(hint, sizeof hint, "to change it use %s, or ++%s", ov->text + 1, ov->text + 1);
            return tf_cfg_fail(err, hint, "could not add '%s': key '%s' is already in the config", ov->text, ov->key);
        }
        /* fall through */
    case TF_OV_FORCE_ADD:
        if (cur && cur->type == TF_NODE_DICT && ov->value->type == TF_NODE_DICT) { tf_node_merge(cur, ov->value); return 0; }
        if (tf_node_set_path(cfg->root, ov->key, copy = tf_node_copy(ov->value), 1)) {
            tf_node_free(copy); /* fuzzing fix, as above: the copy leaked when the key had no place */
            return tf_cfg_fail(err, "a parent of the key is not a mapping", "could not set '%s'", ov->text);
        }
        return 0;
    case TF_OV_DELETE:
        if (!cur) {
            closest_group_or_key(cfg, ov->key, near, sizeof near);
            return tf_cfg_fail(err, NULL, "could not delete '%s': key '%s' is not in the config (did you mean '%s'?)",
                               ov->text, ov->key, near);
        }
        if (ov->value && !tf_node_equal(cur, ov->value))
            return tf_cfg_fail(err, NULL, "could not delete '%s': the value of '%s' differs", ov->text, ov->key);
        if (!tf_node_remove_path(cfg->root, ov->key))
            return tf_cfg_fail(err, NULL, "could not delete '%s' (list elements cannot be deleted)", ov->text);
        return 0;
    }
    return 0;
}

int tf_cfg_apply(TfCfg *cfg, const char *override, TfCfgError *err) {
    TfOverride ov;
    if (tf_override_parse(override, 0, &ov, err)) return -1;
    int rc = tf_cfg_apply_parsed(cfg, &ov, err);
    tf_override_free(&ov);
    return rc;
}

typedef struct {
    const char *key;
    size_t best;
    char *out;
    size_t cap;
} Closest;

static void consider(Closest *c, const char *cand) {
    size_t dist = tf_edit_distance(c->key, cand);
    if (dist < c->best) { c->best = dist; snprintf(c->out, c->cap, "%s", cand); }
}

static void closest_walk(const TfCfgNode *n, char *path, size_t len, Closest *c) {
    if (n->type != TF_NODE_DICT) return;
    for (size_t k = 0; k < n->n; k++) {
        size_t kl = strlen(n->keys[k]);
        if (len + kl + 2 > 1024) continue;
        size_t at = len;
        if (len) path[at++] = '.';
        memcpy(path + at, n->keys[k], kl + 1);
        consider(c, path);
        closest_walk(n->items[k], path, at + kl, c);
        path[len] = '\0';
    }
}

void tf_cfg_closest_path(const TfCfgNode *root, const char *key, const char *const *extra, size_t n_extra,
                         char *out, size_t cap) {
    Closest c = {.key = key, .best = (size_t)-1, .out = out, .cap = cap};
    out[0] = '\0';
    char path[1024] = "";
    if (root) closest_walk(root, path, 0, &c);
    for (size_t k = 0; k < n_extra; k++) consider(&c, extra[k]);
}

void tf_cfg_destroy(TfCfg *cfg) {
    if (!cfg) return;
    tf_node_free(cfg->root);
    tf_node_free(cfg->cache);
    free(cfg);
}

const TfCfgNode *tf_cfg_root(const TfCfg *cfg) { return cfg->root; }

const char *tf_cfg_choice(const TfCfg *cfg, const char *group) {
    for (size_t k = 0; k < cfg->n_groups; k++)
        if (!strcmp(cfg->group[k], group)) return cfg->choice[k][0] ? cfg->choice[k] : NULL;
    return NULL;
}
