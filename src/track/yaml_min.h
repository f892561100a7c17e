/* yaml_min.h - the little YAML the MLflow file store needs, without a YAML library:
 * emitting a scalar so that PyYAML's safe_load reads back the same string, and reading one
 * top-level `key: scalar` of a block mapping written by PyYAML (plain, 'single' or "double"
 * quoted, possibly folded over indented continuation lines).
 * This file must not know about models, MPI, training or MLflow's directory layout. */
#ifndef TF_TRACK_YAML_MIN_H
#define TF_TRACK_YAML_MIN_H

#include <stddef.h>

#include "track/util.h"

/* Append s: plain when it is unambiguous as a string (letters first, then [A-Za-z0-9_./-],
 * not a YAML 1.1 bool/null word), otherwise single-quoted with ' doubled. s must not contain
 * control characters (callers validate). */
void tf_yaml_scalar(TfStrBuf *b, const char *s);
/* Always single-quoted (ids MUST be strings even when they look like numbers). */
void tf_yaml_quoted(TfStrBuf *b, const char *s);

/* The value of top-level `key:` in doc into out[cap]. Returns 0, or -1 when the key is absent,
 * the value does not fit, or it is not a scalar this reader understands. */
int tf_yaml_get(const char *doc, const char *key, char *out, size_t cap);

/* 1 when s has no byte below 0x20 and no DEL. */
int tf_yaml_printable(const char *s);

#endif
