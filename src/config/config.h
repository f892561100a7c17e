/* config.h - Hydra-style configs for the rest of tinyflow.
 *
 *   TfCfg *cfg; TfCfgError e;
 *   if (tf_cfg_compose("configs", "config", argv_overrides, n, &cfg, &e) ||
 *       tf_cfg_validate(cfg, world_size, &e)) -> print e.msg / e.hint, exit 2
 *   double lr = tf_cfg_get_float(cfg, "optim.lr");
 *
 * Composition: configs/<name>.yaml with a defaults list (`- group: option`, `- _self_`,
 * `- group: null`); each group is a folder of option files merged under the group's key
 * (or at the root with `# @package _global_`); an option file may hold
 * `- override /group: option` entries (experiments). Then the overrides: group=option,
 * +group=option, ~group, key=value (struct mode: the key must exist), +key=value,
 * ++key=value, ~key[=value]. Interpolations ${a.b}, ${oc.env:VAR,default}, ${now:%Y}
 * are resolved on read; `???` is a mandatory value.
 * This module knows the names of tinyflow's keys (schema.c) but none of its modules:
 * it does no MPI, creates no run directories and opens no datasets.
 */
#ifndef TF_CONFIG_CONFIG_H
#define TF_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/node.h"

typedef struct TfCfg TfCfg;

/* Compose config_dir/config_name.yaml with the overrides (no sweeps: expand them first). */
int tf_cfg_compose(const char *config_dir, const char *config_name, const char *const *overrides,
                   int n_overrides, TfCfg **out, TfCfgError *err);
void tf_cfg_destroy(TfCfg *cfg);

/* Apply one more value override (key=value, +key=value, ++key=value, ~key) to a composed config. */
int tf_cfg_apply(TfCfg *cfg, const char *override, TfCfgError *err);

/* Check every value against the key table (type, range, choices), `???` and interpolations,
 * and the rules that span keys (e.g. dataset.batch_size divisible by world_size).
 * All problems are listed in err->msg, one per line. */
int tf_cfg_validate(const TfCfg *cfg, int world_size, TfCfgError *err);

/* The tree (unresolved), and the option chosen for a group ("model" -> "unet"; NULL if none). */
const TfCfgNode *tf_cfg_root(const TfCfg *cfg);
const char *tf_cfg_choice(const TfCfg *cfg, const char *group);

/* Typed reads (interpolations resolved). A missing key, `???`, a wrong type or a bad
 * interpolation ends the program with exit code 2 and a message naming the key. */
int tf_cfg_has(const TfCfg *cfg, const char *key);     /* present and not null */
int tf_cfg_is_null(const TfCfg *cfg, const char *key); /* present and null */
int64_t tf_cfg_get_int(const TfCfg *cfg, const char *key);
double tf_cfg_get_float(const TfCfg *cfg, const char *key); /* ints are accepted */
int tf_cfg_get_bool(const TfCfg *cfg, const char *key);
const char *tf_cfg_get_str(const TfCfg *cfg, const char *key); /* valid while cfg lives */
/* Lists: fill out[0..max) and return the length (die if longer than max). */
size_t tf_cfg_get_int_list(const TfCfg *cfg, const char *key, int64_t *out, size_t max);
size_t tf_cfg_get_float_list(const TfCfg *cfg, const char *key, double *out, size_t max);
/* The resolved node (a copy the caller frees), or NULL with err set. */
TfCfgNode *tf_cfg_resolved(const TfCfg *cfg, const char *key, TfCfgError *err);

/* YAML of the composed config; resolve=1 resolves interpolations (as `--cfg job --resolve`). */
int tf_cfg_dump(const TfCfg *cfg, FILE *f, int resolve, TfCfgError *err);
/* Atomic writes (tmp + fsync + rename) of the config and of an overrides list. */
int tf_cfg_save(const TfCfg *cfg, const char *path, TfCfgError *err);
int tf_cfg_save_overrides(const char *const *overrides, int n, const char *path, TfCfgError *err);

/* Resolve every interpolation of a tree into a new tree (`???` stays `???`). */
int tf_cfg_resolve_tree(const TfCfgNode *root, TfCfgNode **out, TfCfgError *err);
/* Resolve one node found at `where` within root; returns a new node. */
int tf_cfg_resolve_node(const TfCfgNode *root, const TfCfgNode *node, const char *where, TfCfgNode **out,
                        TfCfgError *err);

/* --- the key table (schema.c) -------------------------------------------------------- */
typedef enum { TF_CFG_INT, TF_CFG_FLOAT, TF_CFG_BOOL, TF_CFG_STR, TF_CFG_INT_LIST, TF_CFG_FLOAT_LIST } TfCfgType;
enum {
    TF_CFG_NULLABLE = 1, /* null is allowed */
    TF_CFG_LO_OPEN = 2,  /* value > lo rather than >= lo */
    TF_CFG_HI_OPEN = 4   /* value < hi rather than <= hi */
};
typedef struct {
    const char *key;
    TfCfgType type;
    double lo, hi;       /* numeric range (each element for lists); lo > hi: no range */
    unsigned flags;
    const char *choices; /* "a|b|c" for strings, NULL: any string */
    const char *doc;
} TfCfgKey;

const TfCfgKey *tf_cfg_keys(size_t *n);
const TfCfgKey *tf_cfg_key_find(const char *key);
/* The closest key to `key` among the table's keys (for "did you mean"). */
const char *tf_cfg_closest_key(const char *key);

/* --- sweeps (-m) ---------------------------------------------------------------------- */
/* Expand `a=1,2 b=x,y` into jobs in itertools.product order (first sweep outermost).
 * jobs[j] is an array of n_overrides strings (each owned); free with tf_sweep_free. */
typedef struct {
    size_t n_jobs;
    int n_overrides;
    char ***jobs;
} TfSweep;
int tf_sweep_expand(const char *const *overrides, int n, TfSweep *out, TfCfgError *err);
void tf_sweep_free(TfSweep *s);

#endif
