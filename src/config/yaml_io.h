/* yaml_io.h - read YAML (libyaml) into a config tree and write a tree back as YAML.
 * Knows nothing about Hydra defaults lists or tinyflow's keys. */
#ifndef TF_CONFIG_YAML_IO_H
#define TF_CONFIG_YAML_IO_H

#include <stdio.h>

#include "config/node.h"

/* Parse one YAML document. Plain scalars are typed as OmegaConf does (YAML 1.1, see node.h),
 * quoted ones are strings; an empty document is an empty dict. Duplicate keys, aliases and
 * several documents are errors naming `name` and the line. */
int tf_yaml_load_string(const char *text, size_t len, const char *name, TfCfgNode **out,
                        TfCfgError *err);
/* Same for a file; *global_package is set to 1 when the header says `# @package _global_`. */
int tf_yaml_load_file(const char *path, TfCfgNode **out, int *global_package, TfCfgError *err);

/* Block-style YAML; strings that would read back as another type are quoted. */
void tf_yaml_dump(const TfCfgNode *root, FILE *f);

/* Write text to path atomically: path.tmp.<pid>, fsync, rename, fsync of the directory. */
int tf_write_file_atomic(const char *path, const char *text, size_t len, TfCfgError *err);

#endif
