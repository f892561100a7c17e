/* interp.c - resolution of ${a.b}, ${oc.env:VAR[,default]} and ${now:FORMAT}.
 * A string that is exactly one interpolation takes the type of what it points to;
 * otherwise the pieces are joined as text. Env values and defaults are typed like
 * override values ("128" -> int). Knows nothing about tinyflow's keys. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfg_internal.h"
#include "core/check.h"

#define MAX_DEPTH 32

typedef struct { char *b; size_t n, cap; } Str;

static void str_add(Str *s, const char *t, size_t len) {
    if (s->n + len + 1 > s->cap) {
        size_t cap = (s->n + len + 1) * 2;
        char *nb = realloc(s->b, cap);
        if (!nb) tf_die("out of memory resolving an interpolation");
        s->b = nb;
        s->cap = cap;
    }
    memcpy(s->b + s->n, t, len);
    s->n += len;
    s->b[s->n] = '\0';
}

static int resolve(const TfCfgNode *root, const TfCfgNode *n, const char *where, int depth, TfCfgNode **out, TfCfgError *err);

/* Index just past the '}' matching the "${" at s[0]; 0 if unterminated. */
static size_t interp_end(const char *s) {
    int depth = 0;
    char quote = 0;
    for (size_t i = 0; s[i]; i++) {
        if (quote) { if (s[i] == '\\' && s[i + 1]) i++; else if (s[i] == quote) quote = 0; continue; }
        if (s[i] == '\'' || s[i] == '"') { quote = s[i]; continue; }
        if (s[i] == '$' && s[i + 1] == '{') { depth++; i++; continue; }
        if (s[i] == '}' && --depth == 0) return i + 1;
    }
    return 0;
}

static int eval_text(const TfCfgNode *root, const char *text, const char *where, int depth, TfCfgNode **out,
                     TfCfgError *err);

/* The body of one ${...} (without the braces). */
static int eval_expr(const TfCfgNode *root, const char *expr, const char *where, int depth, TfCfgNode **out,
                     TfCfgError *err) {
    while (*expr == ' ') expr++;
    const char *colon = strchr(expr, ':');
    size_t name_len = strspn(expr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
    if (colon && expr + name_len == colon) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(colon - expr), expr);
        const char *args = colon + 1;
        if (!strcmp(name, "oc.env")) {
            char var[256];
            size_t vl = strcspn(args, ","), skip = strspn(args, " ");
            if (skip > vl) skip = vl;
            snprintf(var, sizeof var, "%.*s", (int)(vl - skip < 255 ? vl - skip : 255), args + skip);
            char *e = var + strlen(var);
            while (e > var && e[-1] == ' ') *--e = '\0';
            const char *v = getenv(var);
            if (v) return tf_override_parse_value(v[0] ? v : "''", out, err) ? tf_cfg_fail(err, NULL,
                       "'%s': environment variable %s='%s' cannot be parsed as a value", where, var, v) : 0;
            if (!args[vl])
                return tf_cfg_fail(err, "export the variable, or give a default: ${oc.env:VAR,default}",
                                   "'%s': environment variable '%s' is not set", where, var);
            const char *def = args + vl + 1;
            while (*def == ' ') def++;
            if (strstr(def, "${")) return eval_text(root, def, where, depth + 1, out, err);
            if (tf_override_parse_value(def, out, err))
                return tf_cfg_fail(err, NULL, "'%s': bad default in ${oc.env:%s}", where, args);
            return 0;
        }
        if (!strcmp(name, "now")) {
            char buf[256];
            time_t t = time(NULL);
            struct tm tmv;
            localtime_r(&t, &tmv);
            /* strftime leaves buf undefined when the text does not fit (returns 0). */
            if (strftime(buf, sizeof buf, args, &tmv) == 0) buf[0] = '\0';
            *out = tf_node_str(buf);
            return 0;
        }
        return tf_cfg_fail(err, "supported: ${key.path}, ${oc.env:VAR,default}, ${now:%Y-%m-%d}",
                           "'%s': unknown resolver '%s' in ${%s}", where, name, expr);
    }
    char path[512];
    snprintf(path, sizeof path, "%s", expr);
    char *e = path + strlen(path);
    while (e > path && e[-1] == ' ') *--e = '\0';
    if (path[0] == '.')
        return tf_cfg_fail(err, "write the absolute key, e.g. ${model.base_ch}",
                           "'%s': relative interpolation ${%s} is not supported", where, path);
    const TfCfgNode *target = tf_node_find(root, path);
    if (!target) {
        char near[256];
        tf_cfg_closest_path(root, path, NULL, 0, near, sizeof near);
        return tf_cfg_fail(err, NULL, "'%s': interpolation ${%s} points to a missing key (did you mean '%s'?)",
                           where, path, near);
    }
    if (target->type == TF_NODE_MISSING)
        return tf_cfg_fail(err, "set it on the command line: KEY=VALUE",
                           "'%s': interpolation ${%s} points to the mandatory value '%s', which is not set (`?\?\?`)",
                           where, path, path);
    return resolve(root, target, path, depth + 1, out, err);
}

static int eval_text(const TfCfgNode *root, const char *s, const char *where, int depth, TfCfgNode **out,
                     TfCfgError *err) {
    if (depth > MAX_DEPTH)
        return tf_cfg_fail(err, "two keys refer to each other", "'%s': interpolation loop (depth over %d)", where,
                           MAX_DEPTH);
    size_t L = strlen(s);
    if (s[0] == '$' && s[1] == '{' && interp_end(s) == L) {
        char *body = tf_malloc(L);
        memcpy(body, s + 2, L - 3);
        body[L - 3] = '\0';
        int rc = eval_expr(root, body, where, depth, out, err);
        free(body);
        return rc;
    }
    Str acc = {0};
    str_add(&acc, "", 0);
    for (size_t i = 0; i < L;) {
        if (s[i] == '\\' && s[i + 1] == '$') { str_add(&acc, "$", 1); i += 2; continue; }
        if (s[i] == '$' && s[i + 1] == '{') {
            size_t end = interp_end(s + i);
            if (!end) { free(acc.b); return tf_cfg_fail(err, NULL, "'%s': unterminated ${ in '%s'", where, s); }
            char *body = tf_malloc(end);
            memcpy(body, s + i + 2, end - 3);
            body[end - 3] = '\0';
            TfCfgNode *v = NULL;
            int rc = eval_expr(root, body, where, depth, &v, err);
            free(body);
            if (rc) { free(acc.b); return -1; }
            char buf[64];
            switch (v->type) {
            case TF_NODE_STR: str_add(&acc, v->s, strlen(v->s)); break;
            case TF_NODE_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->i); str_add(&acc, buf, strlen(buf)); break;
            case TF_NODE_FLOAT: tf_format_float(v->f, buf, sizeof buf); str_add(&acc, buf, strlen(buf)); break;
            case TF_NODE_BOOL: str_add(&acc, v->b ? "true" : "false", v->b ? 4 : 5); break;
            case TF_NODE_NULL: str_add(&acc, "None", 4); break;
            default: {
                const char *kind = tf_node_type_name(v->type);
                tf_node_free(v);
                free(acc.b);
                return tf_cfg_fail(err, NULL, "'%s': a %s cannot be joined into the string '%s'", where, kind, s);
            }
            }
            tf_node_free(v);
            i += end;
            continue;
        }
        str_add(&acc, s + i, 1);
        i++;
    }
    *out = tf_node_str(acc.b);
    free(acc.b);
    return 0;
}

static int resolve(const TfCfgNode *root, const TfCfgNode *n, const char *where, int depth, TfCfgNode **out, TfCfgError *err) {
    *out = NULL;
    if (depth > MAX_DEPTH)
        return tf_cfg_fail(err, "two keys refer to each other", "'%s': interpolation loop (depth over %d)", where,
                           MAX_DEPTH);
    if (tf_node_is_interp(n)) return eval_text(root, n->s, where, depth, out, err);
    if (n->type != TF_NODE_LIST && n->type != TF_NODE_DICT) { *out = tf_node_copy(n); return 0; }
    TfCfgNode *c = tf_node_new(n->type);
    for (size_t k = 0; k < n->n; k++) {
        char sub[1024];
        if (n->type == TF_NODE_DICT) snprintf(sub, sizeof sub, "%s%s%s", where, where[0] ? "." : "", n->keys[k]);
        else snprintf(sub, sizeof sub, "%s.%zu", where, k);
        TfCfgNode *v = NULL;
        if (resolve(root, n->items[k], sub, depth, &v, err)) { tf_node_free(c); return -1; }
        if (n->type == TF_NODE_DICT) tf_node_dict_set(c, n->keys[k], v);
        else tf_node_list_append(c, v);
    }
    *out = c;
    return 0;
}

int tf_cfg_resolve_node(const TfCfgNode *root, const TfCfgNode *node, const char *where, TfCfgNode **out, TfCfgError *err) {
    return resolve(root, node, where, 0, out, err);
}

int tf_cfg_resolve_tree(const TfCfgNode *root, TfCfgNode **out, TfCfgError *err) {
    return resolve(root, root, "", 0, out, err);
}
