/* node.h - the config tree (OmegaConf-like): typed scalars, lists, dicts, `???`.
 * A string that contains "${" is an interpolation, resolved on read (interp.c).
 * This file knows nothing about YAML, Hydra composition or tinyflow's keys. */
#ifndef TF_CONFIG_NODE_H
#define TF_CONFIG_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    TF_NODE_NULL,
    TF_NODE_BOOL,
    TF_NODE_INT,
    TF_NODE_FLOAT,
    TF_NODE_STR,
    TF_NODE_LIST,
    TF_NODE_DICT,
    TF_NODE_MISSING /* `???`: mandatory value not set yet */
} TfCfgNodeType;

typedef struct TfCfgNode TfCfgNode;
struct TfCfgNode {
    TfCfgNodeType type;
    int b;       /* BOOL */
    int64_t i;   /* INT */
    double f;    /* FLOAT */
    char *s;     /* STR (owned) */
    size_t n;    /* LIST / DICT: number of children */
    size_t cap;
    char **keys; /* DICT: keys[0..n) (owned) */
    TfCfgNode **items;
};

/* Error text of the config module: a message and an optional hint. */
typedef struct {
    char msg[2048];
    char hint[512];
} TfCfgError;

/* Fill err (when not NULL) and return -1. */
int tf_cfg_fail(TfCfgError *err, const char *hint, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

const char *tf_node_type_name(TfCfgNodeType t);

TfCfgNode *tf_node_new(TfCfgNodeType t);
TfCfgNode *tf_node_str(const char *s);
TfCfgNode *tf_node_int(int64_t v);
TfCfgNode *tf_node_float(double v);
TfCfgNode *tf_node_bool(int v);
void tf_node_free(TfCfgNode *n);
TfCfgNode *tf_node_copy(const TfCfgNode *n);
int tf_node_equal(const TfCfgNode *a, const TfCfgNode *b);

/* Lists and dicts. dict_set replaces an existing key (freeing the old value). */
void tf_node_list_append(TfCfgNode *list, TfCfgNode *item);
TfCfgNode *tf_node_dict_get(const TfCfgNode *dict, const char *key);
void tf_node_dict_set(TfCfgNode *dict, const char *key, TfCfgNode *value);
int tf_node_dict_remove(TfCfgNode *dict, const char *key); /* 1 when removed */

/* Dotted paths "a.b.c" (list elements by index: "a.0"). NULL when absent. */
TfCfgNode *tf_node_find(const TfCfgNode *root, const char *path);
/* Set path to value, creating intermediate dicts when `create` (else fail when a parent is absent). */
int tf_node_set_path(TfCfgNode *root, const char *path, TfCfgNode *value, int create);
int tf_node_remove_path(TfCfgNode *root, const char *path); /* 1 when removed */

/* Deep merge src into dst (dicts merge key by key, everything else replaces). */
void tf_node_merge(TfCfgNode *dst, const TfCfgNode *src);

int tf_node_is_interp(const TfCfgNode *n); /* STR containing "${" */

/* Scalar typing of unquoted text. yaml11: YAML 1.1 rules as OmegaConf applies them to files
 * (null/~/empty, yes/no/on/off, 0x/0o ints, 1e-3, .inf). Otherwise Hydra's override rules
 * (null, true/false, ints with _, floats incl. inf/nan). Anything else is a string. */
TfCfgNode *tf_node_from_plain(const char *text, int yaml11);
/* Does this plain text read back as something other than a string under either rule set? */
int tf_node_plain_is_special(const char *text);

/* Shortest decimal text that reads back as the same double and as a float ("1.0", "0.0003"). */
void tf_format_float(double v, char *buf, size_t cap);

/* Every leaf path of the tree (dicts descended, lists and scalars are leaves), "a.b" form.
 * Calls fn(path, node, ctx) in document order; stops and returns fn's value when it is non-zero. */
typedef int (*TfCfgNodeVisit)(const char *path, const TfCfgNode *node, void *ctx);
int tf_node_walk(const TfCfgNode *root, TfCfgNodeVisit fn, void *ctx);

/* Levenshtein distance (for "did you mean"). */
size_t tf_edit_distance(const char *a, const char *b);

#endif
