/* signature.c - does a checkpoint fit this model? And where do two configs differ?
 *
 * The model signature is the architecture name plus every parameter's name and shape;
 * the caller passes its own parameter list (plain names and shapes), so this file never
 * sees a model. A mismatch is reported as the FIRST difference: architecture, then the
 * model's parameters in order (missing from a group, or a shape), then checkpoint tensors
 * the model does not have. When the config texts differ under `model.`, the first such key
 * is added as a hint. The YAML comparison is line based (block style, as the config module
 * dumps it): keys become dotted paths, list items [i]; values are compared as text.
 */
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"

// --- config texts ------------------------------------------------------------------------
typedef struct {
    char key[256], val[256];
} Kv;
typedef struct {
    int indent, items;
    char path[256];
} Level;

/* A path ending in "]" (a list item); false for the empty path (fuzz/fuzz_ckpt_config_diff). */
static int ends_with_bracket(const char *p) {
    size_t L = strlen(p);
    return L && p[L - 1] == ']';
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

/* Cut a trailing " # comment" that is outside quotes. */
static void cut_comment(char *s) {
    char q = 0;
    for (char *p = s; *p; p++) {
        if (q) { if (*p == q) q = 0; }
        else if (*p == '\'' || *p == '"') q = *p;
        else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) { *p = '\0'; return; }
    }
}

static int add_kv(Kv **kv, int *n, int *cap, const char *prefix, const char *key, const char *val) {
    size_t pl = prefix ? strlen(prefix) : 0;
    if (pl && !(strncmp(key, prefix, pl) == 0 && (key[pl] == '\0' || key[pl] == '.' || key[pl] == '['))) return 0;
    if (*n == *cap) {
        if (*cap >= 65536) return 0; /* enough for any hint */
        *cap = *cap ? 2 * *cap : 64;
        Kv *g = realloc(*kv, (size_t)*cap * sizeof **kv);
        if (!g) return -1;
        *kv = g;
    }
    snprintf((*kv)[*n].key, sizeof (*kv)[*n].key, "%s", key);
    snprintf((*kv)[*n].val, sizeof (*kv)[*n].val, "%s", val);
    (*n)++;
    return 0;
}

/* "key: value" at path `parent`: record it, or push a level when the value is empty. */
static int key_line(char *content, int indent, Level *st, int *depth, Kv **kv, int *n, int *cap, const char *prefix) {
    char *colon = NULL, q = 0;
    for (char *p = content; *p; p++) {
        if (q) { if (*p == q) q = 0; }
        else if (*p == '\'' || *p == '"') q = *p;
        else if (*p == ':' && (p[1] == ' ' || p[1] == '\0')) { colon = p; break; }
    }
    const char *parent = st[*depth - 1].path;
    char path[256];
    if (!colon) return add_kv(kv, n, cap, prefix, parent, content); /* a bare scalar */
    *colon = '\0';
    char *key = trim(content), *val = trim(colon + 1);
    snprintf(path, sizeof path, "%.200s%s%.50s", parent, parent[0] ? "." : "", key);
    if (val[0]) return add_kv(kv, n, cap, prefix, path, val);
    if (*depth < 32) {
        st[*depth].indent = indent;
        st[*depth].items = 0;
        snprintf(st[*depth].path, sizeof st[*depth].path, "%s", path);
        (*depth)++;
    }
    return 0;
}

static int flatten(const char *text, const char *prefix, Kv **kv, int *n) {
    Level st[32];
    int depth = 1, cap = 0;
    st[0].indent = -1;
    st[0].items = 0;
    st[0].path[0] = '\0';
    *kv = NULL;
    *n = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
        p = eol ? eol + 1 : p + len;
        cut_comment(line);
        int indent = 0;
        while (line[indent] == ' ') indent++;
        char *content = trim(line + indent);
        if (!content[0]) continue;
        int item = content[0] == '-' && (content[1] == ' ' || content[1] == '\0');
        while (depth > 1 && (st[depth - 1].indent > indent || (!item && st[depth - 1].indent == indent) ||
                             (item && st[depth - 1].indent == indent && ends_with_bracket(st[depth - 1].path))))
            depth--;
        if (!item) {
            if (key_line(content, indent, st, &depth, kv, n, &cap, prefix)) return -1;
            continue;
        }
        if (depth >= 32) continue;
        char ipath[256];
        snprintf(ipath, sizeof ipath, "%.200s[%d]", st[depth - 1].path, st[depth - 1].items++);
        Level *lv = &st[depth];
        lv->indent = indent;
        lv->items = 0;
        memcpy(lv->path, ipath, sizeof ipath);
        depth++;
        char *rest = trim(content + 1);
        if (rest[0] && key_line(rest, indent + 2, st, &depth, kv, n, &cap, prefix)) return -1;
    }
    return 0;
}

static int cmp_kv_key(const void *x, const void *y) {
    return strcmp(((const Kv *)x)->key, ((const Kv *)y)->key);
}

/* The entry of `key` in the key-sorted copy, or NULL. */
static const Kv *find_kv(const Kv *sorted, int n, const char *key) {
    Kv probe;
    snprintf(probe.key, sizeof probe.key, "%s", key);
    return bsearch(&probe, sorted, (size_t)n, sizeof *sorted, cmp_kv_key);
}

/* First difference in the order of `a` (then keys only in `b`, in b's order): O(n log n). */
int tf_ckpt_config_diff(const char *ckpt_text, const char *this_text, const char *prefix, char *out, size_t cap) {
    Kv *a = NULL, *b = NULL, *sa = NULL, *sb = NULL;
    int na = 0, nb = 0, found = 0;
    if (prefix && !prefix[0]) prefix = NULL;
    if (flatten(ckpt_text ? ckpt_text : "", prefix, &a, &na) || flatten(this_text ? this_text : "", prefix, &b, &nb) ||
        !(sa = malloc(((size_t)na + 1) * sizeof *sa)) || !(sb = malloc(((size_t)nb + 1) * sizeof *sb)))
        goto out; /* out of memory: no hint rather than a wrong one */
    if (na) memcpy(sa, a, (size_t)na * sizeof *a);
    if (nb) memcpy(sb, b, (size_t)nb * sizeof *b);
    qsort(sa, (size_t)na, sizeof *sa, cmp_kv_key);
    qsort(sb, (size_t)nb, sizeof *sb, cmp_kv_key);
    for (int i = 0; i < na && !found; i++) {
        const Kv *o = find_kv(sb, nb, a[i].key);
        if (!o) {
            snprintf(out, cap, "%s is set in the checkpoint (%s) but not in this config", a[i].key, a[i].val);
            found = 1;
        } else if (strcmp(a[i].val, o->val) != 0) {
            snprintf(out, cap, "%s is %s in the checkpoint but %s in this config", a[i].key, a[i].val, o->val);
            found = 1;
        }
    }
    for (int j = 0; j < nb && !found; j++)
        if (!find_kv(sa, na, b[j].key)) {
            snprintf(out, cap, "%s is set in this config (%s) but not in the checkpoint", b[j].key, b[j].val);
            found = 1;
        }
out:
    free(a);
    free(b);
    free(sa);
    free(sb);
    return found;
}

// --- tensors -------------------------------------------------------------------------------
static const char *const g_groups[] = {"param", "adam_m", "adam_v", "ema"};
#define N_GROUPS 4

static void shape_str(char *buf, size_t cap, int ndim, const int *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++) o += (size_t)snprintf(buf + o, cap - o, "%s%d", d ? "," : "", shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static int cmp_str_ptr(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int mismatch(const TfCkpt *ck, const char *hint, char *err, size_t cap, const char *what) {
    return tf_ckpt_fail(err, cap, "checkpoint '%s' does not fit this model: %s%s%s%s", ck->path, what,
                        hint[0] ? " (config: " : "", hint, hint[0] ? ")" : "");
}

int tf_ckpt_check_signature(const TfCkpt *ck, const char *arch, const TfCkptTensor *params, int n,
                            const char *config_text, char *err, size_t cap) {
    char hint[600] = "", what[1024], a[64], b[64], full[TF_CKPT_NAME_MAX + 16];
    if (config_text && !tf_ckpt_config_diff(ck->meta.config_text, config_text, "model", hint, sizeof hint)) hint[0] = '\0';
    if (arch && strcmp(arch, ck->meta.arch) != 0) {
        snprintf(what, sizeof what, "the architecture is '%s' in the checkpoint but '%s' in this model", ck->meta.arch, arch);
        return mismatch(ck, hint, err, cap, what);
    }
    int has[N_GROUPS] = {0};
    for (int i = 0; i < ck->n_tensors; i++)
        for (int g = 0; g < N_GROUPS; g++) {
            size_t gl = strlen(g_groups[g]);
            if (strncmp(ck->tensors[i].name, g_groups[g], gl) == 0 && ck->tensors[i].name[gl] == '/') has[g] = 1;
        }
    has[0] = 1; /* parameters are always required */
    for (int i = 0; i < n; i++) {
        for (int g = 0; g < N_GROUPS; g++) {
            if (!has[g]) continue;
            const char *label = g ? "tensor " : "parameter ";
            snprintf(full, sizeof full, "%s/%s", g_groups[g], params[i].name);
            const char *shown = g ? full : params[i].name;
            const TfCkptTensor *t = tf_ckpt_tensor(ck, full);
            shape_str(b, sizeof b, params[i].ndim, params[i].shape);
            if (!t) {
                snprintf(what, sizeof what, "%s%s %s is in this model but not in the checkpoint", label, shown, b);
                return mismatch(ck, hint, err, cap, what);
            }
            int same = t->ndim == params[i].ndim;
            for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == params[i].shape[d];
            if (!same) {
                shape_str(a, sizeof a, t->ndim, t->shape);
                snprintf(what, sizeof what, "%s%s has shape %s in the checkpoint but %s in this model", label, shown, a, b);
                return mismatch(ck, hint, err, cap, what);
            }
        }
    }
    const char **names = malloc(((size_t)n + 1) * sizeof *names);
    if (!names) return tf_ckpt_fail(err, cap, "checkpoint signature check: out of memory");
    for (int i = 0; i < n; i++) names[i] = params[i].name;
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    int rc = 0;
    for (int i = 0; i < ck->n_tensors && rc == 0; i++) {
        const char *nm = ck->tensors[i].name, *slash = strchr(nm, '/');
        for (int g = 0; g < N_GROUPS && rc == 0; g++) {
            if (!slash || (size_t)(slash - nm) != strlen(g_groups[g]) || strncmp(nm, g_groups[g], (size_t)(slash - nm)) != 0)
                continue;
            const char *rest = slash + 1;
            if (bsearch(&rest, names, (size_t)n, sizeof *names, cmp_str_ptr)) continue;
            shape_str(a, sizeof a, ck->tensors[i].ndim, ck->tensors[i].shape);
            snprintf(what, sizeof what, "%s%s %s is in the checkpoint but not in this model", g ? "tensor " : "parameter ",
                     g ? nm : rest, a);
            rc = mismatch(ck, hint, err, cap, what);
        }
    }
    free(names);
    return rc;
}

void tf_ckpt_check_signature_or_die(const TfCkpt *ck, const char *arch, const TfCkptTensor *params, int n,
                                    const char *config_text) {
    char err[2048];
    if (tf_ckpt_check_signature(ck, arch, params, n, config_text, err, sizeof err))
        tf_die_usage("resume with the configuration the checkpoint was trained with, or start a new run directory",
                     "%s", err);
}
