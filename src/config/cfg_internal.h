/* cfg_internal.h - the TfCfg struct, shared by the config module's files only.
 * Nothing outside src/config/ includes this. */
#ifndef TF_CONFIG_CFG_INTERNAL_H
#define TF_CONFIG_CFG_INTERNAL_H

#include "config/config.h"
#include "config/override.h"

#define TF_CFG_MAX_GROUPS 64

struct TfCfg {
    TfCfgNode *root;
    char dir[1024];
    size_t n_groups;
    char group[TF_CFG_MAX_GROUPS][128];
    char choice[TF_CFG_MAX_GROUPS][128]; /* "" when the group is null */
    TfCfgNode *cache;                       /* resolved strings handed out by tf_cfg_get_str */
};

/* Apply one parsed value override (not a group override) to cfg->root. */
int tf_cfg_apply_parsed(TfCfg *cfg, const TfOverride *ov, TfCfgError *err);

/* The closest path to `key` among the tree's paths (interior and leaves) and extra names. */
void tf_cfg_closest_path(const TfCfgNode *root, const char *key, const char *const *extra, size_t n_extra,
                         char *out, size_t cap);

#endif
