/* override.h - Hydra's command-line override grammar:
 *   key=value  +key=value  ++key=value  ~key  ~key=value  group=option
 * with typed values (null, true/false, ints, floats incl. inf/nan, '..'/".." strings,
 * [lists], {dicts}, ${interpolations}) and sweeps (a,b,c / choice(a,b) / range(0,10,2)).
 * Knows nothing about config files or tinyflow's keys. */
#ifndef TF_CONFIG_OVERRIDE_H
#define TF_CONFIG_OVERRIDE_H

#include "config/node.h"

typedef enum {
    TF_OV_CHANGE,    /* key=value: the key must exist */
    TF_OV_ADD,       /* +key=value: the key must not exist */
    TF_OV_FORCE_ADD, /* ++key=value: set or add */
    TF_OV_DELETE     /* ~key or ~key=value (delete only when the value matches) */
} TfOverrideKind;

typedef struct {
    TfOverrideKind kind;
    char key[256];
    TfCfgNode *value;         /* NULL for `~key` and for sweeps */
    size_t n_choices;      /* > 0: a sweep; choices[k] is the text of one value */
    char **choices;
    const char *text;      /* the override as typed (not owned) */
} TfOverride;

/* Parse one override. Sweeps are accepted only when allow_sweep (with -m). */
int tf_override_parse(const char *text, int allow_sweep, TfOverride *out, TfCfgError *err);
void tf_override_free(TfOverride *ov);

/* Parse only a value (the part after '='), e.g. for defaults or tests. */
int tf_override_parse_value(const char *text, TfCfgNode **out, TfCfgError *err);

#endif
