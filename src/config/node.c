/* node.c - the config tree: construction, copy, paths, deep merge, scalar typing.
 * Knows nothing about YAML files, Hydra composition or which keys tinyflow uses. */
#include "config/node.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

int tf_cfg_fail(TfCfgError *err, const char *hint, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    snprintf(err->hint, sizeof err->hint, "%s", hint ? hint : "");
    return -1;
}

const char *tf_node_type_name(TfCfgNodeType t) {
    static const char *names[] = {"null", "bool", "int", "float", "string", "list", "dict", "???"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = tf_malloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

TfCfgNode *tf_node_new(TfCfgNodeType t) {
    TfCfgNode *n = tf_calloc(1, sizeof *n);
    n->type = t;
    return n;
}

TfCfgNode *tf_node_str(const char *s) {
    TfCfgNode *n = tf_node_new(TF_NODE_STR);
    n->s = dup_str(s);
    return n;
}

TfCfgNode *tf_node_int(int64_t v) { TfCfgNode *n = tf_node_new(TF_NODE_INT); n->i = v; return n; }
TfCfgNode *tf_node_float(double v) { TfCfgNode *n = tf_node_new(TF_NODE_FLOAT); n->f = v; return n; }
TfCfgNode *tf_node_bool(int v) { TfCfgNode *n = tf_node_new(TF_NODE_BOOL); n->b = v != 0; return n; }

void tf_node_free(TfCfgNode *n) {
    if (!n) return;
    for (size_t k = 0; k < n->n; k++) {
        tf_node_free(n->items[k]);
        if (n->keys) free(n->keys[k]);
    }
    free(n->items);
    free(n->keys);
    free(n->s);
    free(n);
}

TfCfgNode *tf_node_copy(const TfCfgNode *n) {
    if (!n) return NULL;
    TfCfgNode *c = tf_node_new(n->type);
    c->b = n->b; c->i = n->i; c->f = n->f;
    if (n->s) c->s = dup_str(n->s);
    for (size_t k = 0; k < n->n; k++) {
        if (n->type == TF_NODE_DICT) tf_node_dict_set(c, n->keys[k], tf_node_copy(n->items[k]));
        else tf_node_list_append(c, tf_node_copy(n->items[k]));
    }
    return c;
}

int tf_node_equal(const TfCfgNode *a, const TfCfgNode *b) {
    if (a->type != b->type || a->n != b->n) return 0;
    switch (a->type) {
    case TF_NODE_BOOL: return a->b == b->b;
    case TF_NODE_INT: return a->i == b->i;
    case TF_NODE_FLOAT: return a->f == b->f || (isnan(a->f) && isnan(b->f));
    case TF_NODE_STR: return !strcmp(a->s, b->s);
    case TF_NODE_LIST:
    case TF_NODE_DICT:
        for (size_t k = 0; k < a->n; k++) {
            if (a->type == TF_NODE_DICT && strcmp(a->keys[k], b->keys[k])) return 0;
            if (!tf_node_equal(a->items[k], b->items[k])) return 0;
        }
        return 1;
    default: return 1;
    }
}

static void grow(TfCfgNode *n) {
    if (n->n < n->cap) return;
    size_t cap = n->cap ? n->cap * 2 : 4;
    TfCfgNode **items = realloc(n->items, cap * sizeof *items);
    if (!items) tf_die("out of memory growing a config node");
    n->items = items;
    if (n->type == TF_NODE_DICT) {
        char **keys = realloc(n->keys, cap * sizeof *keys);
        if (!keys) tf_die("out of memory growing a config node");
        n->keys = keys;
    }
    n->cap = cap;
}

void tf_node_list_append(TfCfgNode *list, TfCfgNode *item) {
    TF_ASSERT(list->type == TF_NODE_LIST);
    grow(list);
    list->items[list->n++] = item;
}

static long dict_index(const TfCfgNode *d, const char *key) {
    if (!d || d->type != TF_NODE_DICT) return -1;
    for (size_t k = 0; k < d->n; k++)
        if (!strcmp(d->keys[k], key)) return (long)k;
    return -1;
}

TfCfgNode *tf_node_dict_get(const TfCfgNode *dict, const char *key) {
    long k = dict_index(dict, key);
    return k < 0 ? NULL : dict->items[k];
}

void tf_node_dict_set(TfCfgNode *dict, const char *key, TfCfgNode *value) {
    TF_ASSERT(dict->type == TF_NODE_DICT);
    long k = dict_index(dict, key);
    if (k >= 0) {
        tf_node_free(dict->items[k]);
        dict->items[k] = value;
        return;
    }
    grow(dict);
    dict->keys[dict->n] = dup_str(key);
    dict->items[dict->n++] = value;
}

int tf_node_dict_remove(TfCfgNode *dict, const char *key) {
    long k = dict_index(dict, key);
    if (k < 0) return 0;
    tf_node_free(dict->items[k]);
    free(dict->keys[k]);
    memmove(&dict->items[k], &dict->items[k + 1], (dict->n - (size_t)k - 1) * sizeof *dict->items);
    memmove(&dict->keys[k], &dict->keys[k + 1], (dict->n - (size_t)k - 1) * sizeof *dict->keys);
    dict->n--;
    return 1;
}

/* The child named by one path component (a dict key, or a list index). */
static TfCfgNode *child(const TfCfgNode *n, const char *comp) {
    if (!n) return NULL;
    if (n->type == TF_NODE_DICT) return tf_node_dict_get(n, comp);
    if (n->type == TF_NODE_LIST) {
        char *end;
        long idx = strtol(comp, &end, 10);
        if (*comp && !*end && idx >= 0 && (size_t)idx < n->n) return n->items[idx];
    }
    return NULL;
}

TfCfgNode *tf_node_find(const TfCfgNode *root, const char *path) {
    if (!path[0]) return (TfCfgNode *)root;
    char comp[256];
    const TfCfgNode *cur = root;
    const char *p = path;
    while (cur) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof comp) return NULL;
        memcpy(comp, p, len);
        comp[len] = '\0';
        cur = child(cur, comp);
        if (!dot) return (TfCfgNode *)cur;
        p = dot + 1;
    }
    return NULL;
}

/* Split "a.b.c" into parent path "a.b" (into buf) and last component; returns the last. */
static const char *split_last(const char *path, char *parent, size_t cap) {
    const char *dot = strrchr(path, '.');
    if (!dot) { parent[0] = '\0'; return path; }
    size_t len = (size_t)(dot - path);
    if (len >= cap) len = cap - 1;
    memcpy(parent, path, len);
    parent[len] = '\0';
    return dot + 1;
}

int tf_node_set_path(TfCfgNode *root, const char *path, TfCfgNode *value, int create) {
    char parent_path[1024];
    if (strlen(path) >= sizeof parent_path || !path[0]) return -1;
    const char *last = split_last(path, parent_path, sizeof parent_path);
    if (!last[0]) return -1;
    TfCfgNode *parent = root;
    if (parent_path[0]) {
        parent = tf_node_find(root, parent_path);
        if (!parent && create) {
            TfCfgNode *d = tf_node_new(TF_NODE_DICT);
            if (tf_node_set_path(root, parent_path, d, 1)) { tf_node_free(d); return -1; }
            parent = d;
        }
    }
    if (!parent) return -1;
    if (parent->type == TF_NODE_DICT) { tf_node_dict_set(parent, last, value); return 0; }
    if (parent->type == TF_NODE_LIST) {
        char *end;
        long idx = strtol(last, &end, 10);
        if (*end || idx < 0 || (size_t)idx >= parent->n) return -1;
        tf_node_free(parent->items[idx]);
        parent->items[idx] = value;
        return 0;
    }
    return -1;
}

int tf_node_remove_path(TfCfgNode *root, const char *path) {
    char parent_path[1024];
    if (strlen(path) >= sizeof parent_path) return 0;
    const char *last = split_last(path, parent_path, sizeof parent_path);
    TfCfgNode *parent = parent_path[0] ? tf_node_find(root, parent_path) : root;
    if (!parent || parent->type != TF_NODE_DICT) return 0;
    return tf_node_dict_remove(parent, last);
}

void tf_node_merge(TfCfgNode *dst, const TfCfgNode *src) {
    TF_ASSERT(dst->type == TF_NODE_DICT && src->type == TF_NODE_DICT);
    for (size_t k = 0; k < src->n; k++) {
        TfCfgNode *d = tf_node_dict_get(dst, src->keys[k]);
        if (d && d->type == TF_NODE_DICT && src->items[k]->type == TF_NODE_DICT)
            tf_node_merge(d, src->items[k]);
        else
            tf_node_dict_set(dst, src->keys[k], tf_node_copy(src->items[k]));
    }
}

int tf_node_is_interp(const TfCfgNode *n) { return n && n->type == TF_NODE_STR && strstr(n->s, "${"); }

/* --- scalar typing --------------------------------------------------------------------- */

static int ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* Digits with single underscores between them: "1_000". Copies digits into out. */
static int digit_run(const char **p, char **out) {
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s) || (*s == '_' && isdigit((unsigned char)s[1]))) {
        if (*s != '_') *(*out)++ = *s;
        s++;
    }
    *p = s;
    return 1;
}

/* Parse a decimal int (optional sign, underscores) in full; 0 on failure or overflow. */
static int parse_int(const char *t, int64_t *v) {
    char buf[64], *o = buf;
    const char *p = t;
    if (strlen(t) >= sizeof buf) return 0;
    if (*p == '+' || *p == '-') *o++ = *p++;
    if (!digit_run(&p, &o) || *p) return 0;
    *o = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (*end || errno == ERANGE) return 0;
    *v = (int64_t)x;
    return 1;
}

/* Decimal float: [sign] (digits [. digits?] | . digits) [e [sign] digits]; needs a dot or exponent. */
static int parse_float(const char *t, double *v, int yaml11) {
    const char *p = t;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (yaml11) {
        if (ieq(p, ".inf")) { *v = neg ? -INFINITY : INFINITY; return 1; }
        if (ieq(p, ".nan") && p == t) { *v = NAN; return 1; }
    } else {
        if (ieq(p, "inf")) { *v = neg ? -INFINITY : INFINITY; return 1; }
        if (ieq(p, "nan") && p == t) { *v = NAN; return 1; }
    }
    char buf[128], *o = buf;
    if (strlen(t) >= sizeof buf) return 0;
    if (neg) *o++ = '-';
    int mant = digit_run(&p, &o), dot_or_exp = 0;
    if (*p == '.') {
        *o++ = *p++;
        dot_or_exp = 1;
        if (digit_run(&p, &o)) mant = 1;
    }
    if (!mant) return 0;
    if (*p == 'e' || *p == 'E') {
        *o++ = *p++;
        if (*p == '+' || *p == '-') *o++ = *p++;
        if (!digit_run(&p, &o)) return 0;
        dot_or_exp = 1;
    }
    if (*p || !dot_or_exp) return 0;
    *o = '\0';
    *v = strtod(buf, NULL);
    return 1;
}

TfCfgNode *tf_node_from_plain(const char *t, int yaml11) {
    if (yaml11) {
        if (!t[0] || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL"))
            return tf_node_new(TF_NODE_NULL);
        static const char *truthy[] = {"true", "yes", "on"}, *falsy[] = {"false", "no", "off"};
        for (int k = 0; k < 3; k++) {
            size_t L = strlen(truthy[k]);
            char title[8], upper[8];
            for (size_t c = 0; c <= L; c++) {
                upper[c] = (char)toupper((unsigned char)truthy[k][c]);
                title[c] = c ? truthy[k][c] : upper[c];
            }
            if (!strcmp(t, truthy[k]) || !strcmp(t, title) || !strcmp(t, upper)) return tf_node_bool(1);
            L = strlen(falsy[k]);
            for (size_t c = 0; c <= L; c++) {
                upper[c] = (char)toupper((unsigned char)falsy[k][c]);
                title[c] = c ? falsy[k][c] : upper[c];
            }
            if (!strcmp(t, falsy[k]) || !strcmp(t, title) || !strcmp(t, upper)) return tf_node_bool(0);
        }
        const char *p = t + (t[0] == '-' || t[0] == '+');
        /* Fuzzing fix (tests/fuzz_regressions/yaml): strtoll also took a sign or blanks after the
         * prefix, so "-0x-8000000000000000" negated INT64_MIN; digits must follow the prefix, and
         * a value out of int64 range (strtoll saturates) is not an int. */
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && isxdigit((unsigned char)p[2])) {
            char *end;
            errno = 0;
            long long x = strtoll(p + 2, &end, p[1] == 'x' ? 16 : 8);
            if (!*end && errno != ERANGE) return tf_node_int(t[0] == '-' ? -x : x);
        }
    } else {
        if (ieq(t, "null")) return tf_node_new(TF_NODE_NULL);
        if (ieq(t, "true")) return tf_node_bool(1);
        if (ieq(t, "false")) return tf_node_bool(0);
    }
    int64_t iv;
    double fv;
    if (parse_int(t, &iv)) return tf_node_int(iv);
    if (parse_float(t, &fv, yaml11)) return tf_node_float(fv);
    if (!strcmp(t, "???")) return tf_node_new(TF_NODE_MISSING);
    return tf_node_str(t);
}

int tf_node_plain_is_special(const char *t) {
    for (int yaml11 = 0; yaml11 < 2; yaml11++) {
        TfCfgNode *n = tf_node_from_plain(t, yaml11);
        int special = n->type != TF_NODE_STR;
        tf_node_free(n);
        if (special) return 1;
    }
    return 0;
}

void tf_format_float(double v, char *buf, size_t cap) {
    if (isnan(v)) { snprintf(buf, cap, ".nan"); return; }
    if (isinf(v)) { snprintf(buf, cap, v < 0 ? "-.inf" : ".inf"); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* Plain digits rather than "2e+01" for ordinary magnitudes. */
    if (strpbrk(buf, "eE") && fabs(v) >= 1e-4 && fabs(v) < 1e16) {
        for (int dec = 0; dec <= 20; dec++) {
            snprintf(buf, cap, "%.*f", dec, v);
            if (strtod(buf, NULL) == v) break;
        }
    }
    /* "3" -> "3.0" and "1e-05" -> "1.0e-05", so that YAML 1.1 readers see a float too. */
    if (!strchr(buf, '.')) {
        size_t L = strlen(buf);
        char *e = strpbrk(buf, "eE");
        size_t at = e ? (size_t)(e - buf) : L;
        if (L + 3 <= cap) {
            memmove(buf + at + 2, buf + at, L - at + 1);
            buf[at] = '.';
            buf[at + 1] = '0';
        }
    }
}

static int walk(const TfCfgNode *n, char *path, size_t len, size_t cap, TfCfgNodeVisit fn, void *ctx) {
    if (n->type != TF_NODE_DICT || n->n == 0) return len ? fn(path, n, ctx) : 0;
    for (size_t k = 0; k < n->n; k++) {
        size_t kl = strlen(n->keys[k]);
        if (len + kl + 2 > cap) continue;
        size_t at = len;
        if (len) path[at++] = '.';
        memcpy(path + at, n->keys[k], kl + 1);
        int r = walk(n->items[k], path, at + kl, cap, fn, ctx);
        path[len] = '\0';
        if (r) return r;
    }
    return 0;
}

int tf_node_walk(const TfCfgNode *root, TfCfgNodeVisit fn, void *ctx) {
    char path[1024] = "";
    return walk(root, path, 0, sizeof path, fn, ctx);
}

size_t tf_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255) return la > lb ? la : lb;
    size_t row[256];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
