/* override.c - recursive-descent parser for Hydra's override grammar (see override.h).
 * Knows nothing about config files or tinyflow's keys. */
#include "config/override.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#define OV_HINT "overrides look like key=value, +key=value, ++key=value, ~key or group=option"

typedef struct {
    const char *s; /* the value text */
    size_t pos;
    const char *whole; /* the whole override, for messages */
    TfCfgError *err;
} P;

enum { CTX_TOP, CTX_LIST, CTX_DICT_VALUE, CTX_DICT_KEY, CTX_CALL };

static void skip_ws(P *p) {
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t') p->pos++;
}

static int fail_at(P *p, const char *what) {
    return tf_cfg_fail(p->err, OV_HINT "; quote or escape (\\) special characters",
                       "cannot parse override '%s': %s at column %zu", p->whole, what, p->pos + 1);
}

/* Text buffer that grows. */
typedef struct { char *b; size_t n, cap; } Buf;

static void buf_put(Buf *b, char c) {
    if (b->n + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        char *nb = realloc(b->b, b->cap);
        if (!nb) tf_die("out of memory parsing an override");
        b->b = nb;
    }
    b->b[b->n++] = c;
    b->b[b->n] = '\0';
}

/* Copies a ${...} interpolation (with nesting and quotes inside) verbatim. */
static int copy_interp(P *p, Buf *b) {
    int depth = 0;
    do {
        char c = p->s[p->pos];
        if (!c) return fail_at(p, "unterminated ${...}");
        if (c == '$' && p->s[p->pos + 1] == '{') { buf_put(b, '$'); buf_put(b, '{'); p->pos += 2; depth++; continue; }
        if (c == '}') depth--;
        buf_put(b, c);
        p->pos++;
    } while (depth > 0);
    return 0;
}

static int is_stop(char c, int ctx) {
    if (!c) return 1;
    if (c == ',') return 1;
    if (ctx == CTX_LIST && c == ']') return 1;
    if (ctx == CTX_CALL && c == ')') return 1;
    if ((ctx == CTX_DICT_VALUE || ctx == CTX_DICT_KEY) && c == '}') return 1;
    if (ctx == CTX_DICT_KEY && c == ':') return 1;
    return 0;
}

/* An unquoted primitive: up to a stop character; `\` escapes; surrounding blanks trimmed. */
static int parse_primitive(P *p, int ctx, TfCfgNode **out) {
    Buf b = {0};
    size_t keep = 0; /* length up to the last non-blank or escaped char */
    int escaped_any = 0, has_interp = 0;
    skip_ws(p);
    buf_put(&b, '\0');
    b.n = 0;
    for (;;) {
        char c = p->s[p->pos];
        if (is_stop(c, ctx)) break;
        if (c == '\\' && p->s[p->pos + 1]) {
            buf_put(&b, p->s[p->pos + 1]);
            p->pos += 2;
            keep = b.n;
            escaped_any = 1;
            continue;
        }
        if (c == '$' && p->s[p->pos + 1] == '{') {
            if (copy_interp(p, &b)) { free(b.b); return -1; }
            keep = b.n;
            has_interp = 1;
            continue;
        }
        if (strchr("[]{}()='\"=", c)) {
            free(b.b);
            char what[64];
            snprintf(what, sizeof what, "unexpected '%c'", c);
            return fail_at(p, what);
        }
        if (c == ':' && ctx == CTX_DICT_KEY) break;
        buf_put(&b, c);
        p->pos++;
        if (c != ' ' && c != '\t') keep = b.n;
    }
    b.b[keep] = '\0';
    if (has_interp || escaped_any) *out = tf_node_str(b.b);
    else *out = tf_node_from_plain(b.b, 0);
    /* `???` on the command line marks a value as mandatory-unset, as in YAML. */
    free(b.b);
    return 0;
}

static int parse_quoted(P *p, TfCfgNode **out) {
    char q = p->s[p->pos++];
    Buf b = {0};
    buf_put(&b, '\0');
    b.n = 0;
    for (;;) {
        char c = p->s[p->pos];
        if (!c) { free(b.b); return fail_at(p, "unterminated quoted string"); }
        if (c == '\\' && (p->s[p->pos + 1] == q || p->s[p->pos + 1] == '\\')) {
            buf_put(&b, p->s[p->pos + 1]);
            p->pos += 2;
            continue;
        }
        p->pos++;
        if (c == q) break;
        buf_put(&b, c);
    }
    *out = tf_node_str(b.b);
    free(b.b);
    return 0;
}

static int parse_element(P *p, int ctx, TfCfgNode **out, int depth);

static int parse_list(P *p, TfCfgNode **out, int depth) {
    p->pos++; /* [ */
    TfCfgNode *l = tf_node_new(TF_NODE_LIST);
    skip_ws(p);
    if (p->s[p->pos] == ']') { p->pos++; *out = l; return 0; }
    for (;;) {
        TfCfgNode *item = NULL;
        if (parse_element(p, CTX_LIST, &item, depth + 1)) { tf_node_free(l); return -1; }
        tf_node_list_append(l, item);
        skip_ws(p);
        char c = p->s[p->pos];
        if (c == ',') { p->pos++; continue; }
        if (c == ']') { p->pos++; break; }
        tf_node_free(l);
        return fail_at(p, "expected ',' or ']' in a list");
    }
    *out = l;
    return 0;
}

static int parse_dict(P *p, TfCfgNode **out, int depth) {
    p->pos++; /* { */
    TfCfgNode *d = tf_node_new(TF_NODE_DICT);
    skip_ws(p);
    if (p->s[p->pos] == '}') { p->pos++; *out = d; return 0; }
    for (;;) {
        skip_ws(p);
        char key[256];
        size_t k = 0;
        while (p->s[p->pos] && (isalnum((unsigned char)p->s[p->pos]) || strchr("_-/ ", p->s[p->pos])) && k < 255)
            key[k++] = p->s[p->pos++];
        while (k && key[k - 1] == ' ') k--;
        key[k] = '\0';
        if (!k || p->s[p->pos] != ':') { tf_node_free(d); return fail_at(p, "expected 'key:' in a dict"); }
        p->pos++;
        TfCfgNode *v = NULL;
        if (parse_element(p, CTX_DICT_VALUE, &v, depth + 1)) { tf_node_free(d); return -1; }
        if (tf_node_dict_get(d, key)) { tf_node_free(v); tf_node_free(d); return fail_at(p, "duplicate key in a dict"); }
        tf_node_dict_set(d, key, v);
        skip_ws(p);
        char c = p->s[p->pos];
        if (c == ',') { p->pos++; continue; }
        if (c == '}') { p->pos++; break; }
        tf_node_free(d);
        return fail_at(p, "expected ',' or '}' in a dict");
    }
    *out = d;
    return 0;
}

static int parse_element(P *p, int ctx, TfCfgNode **out, int depth) {
    if (depth > 32) return fail_at(p, "nesting deeper than 32 levels");
    skip_ws(p);
    char c = p->s[p->pos];
    int rc;
    if (c == '[') rc = parse_list(p, out, depth);
    else if (c == '{') rc = parse_dict(p, out, depth);
    else if (c == '\'' || c == '"') rc = parse_quoted(p, out);
    else return parse_primitive(p, ctx, out);
    if (rc) return rc;
    skip_ws(p);
    if (!is_stop(p->s[p->pos], ctx) && !(ctx == CTX_LIST && p->s[p->pos] == ']')) {
        tf_node_free(*out);
        *out = NULL;
        return fail_at(p, "unexpected text after a value");
    }
    return 0;
}

static char *dup_range(const char *s, size_t a, size_t b) {
    while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
    char *d = tf_malloc(b - a + 1);
    memcpy(d, s + a, b - a);
    d[b - a] = '\0';
    return d;
}

/* The array holds max(4, next power of two) slots: it grows by doubling (a range() of 10,000
 * values once took seconds of realloc copies under ASan; fuzz_override slow unit). */
static void add_choice(TfOverride *ov, char *text) {
    size_t n = ov->n_choices;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        char **c = realloc(ov->choices, (n ? 2 * n : 4) * sizeof *c);
        if (!c) tf_die("out of memory parsing a sweep");
        ov->choices = c;
    }
    ov->choices[ov->n_choices++] = text;
}

/* range(start, stop[, step]) as Python's: stop excluded; ints stay ints. */
static int expand_range(P *p, TfOverride *ov) {
    TfCfgNode *args[3] = {0};
    int n = 0, rc = -1;
    for (;;) {
        if (n == 3) { fail_at(p, "range() takes at most 3 arguments"); goto out; }
        if (parse_primitive(p, CTX_CALL, &args[n])) goto out;
        if (args[n]->type != TF_NODE_INT && args[n]->type != TF_NODE_FLOAT) { fail_at(p, "range() needs numbers"); n++; goto out; }
        n++;
        skip_ws(p);
        if (p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->s[p->pos] == ')') { p->pos++; break; }
        fail_at(p, "expected ',' or ')' in range()");
        goto out;
    }
    if (n < 2) { fail_at(p, "range() needs start and stop"); goto out; }
    int all_int = 1;
    double v[3] = {0, 0, 1};
    for (int k = 0; k < n; k++) {
        all_int &= args[k]->type == TF_NODE_INT;
        v[k] = args[k]->type == TF_NODE_INT ? (double)args[k]->i : args[k]->f;
    }
    if (v[2] == 0 || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) { fail_at(p, "range() step is 0 or a bound is not finite"); goto out; }
    /* Fuzzing fix (tests/fuzz_regressions/override): a count below LONG_MIN (range(16,6e43,-4))
     * made the (long) cast undefined, and start + k * step overflowed int64 for large ints.
     * Ints now step exactly (Python's rule: while cur < stop, or > stop for a negative step)
     * and stop before leaving the int64 range; floats clamp a negative count to 0. */
    if (all_int) {
        const int64_t stop = args[1]->i, step = n == 3 ? args[2]->i : 1;
        for (int64_t cur = args[0]->i; step > 0 ? cur < stop : cur > stop; cur += step) {
            if (ov->n_choices == 10000) { fail_at(p, "range() has over 10000 values"); goto out; }
            char buf[64];
            snprintf(buf, sizeof buf, "%lld", (long long)cur);
            add_choice(ov, dup_range(buf, 0, strlen(buf)));
            if (step > 0 ? cur > INT64_MAX - step : cur < INT64_MIN - step) break; /* the next one is past stop */
        }
    } else {
        double count = ceil((v[1] - v[0]) / v[2]);
        if (!(count <= 10000)) { fail_at(p, "range() has over 10000 values"); goto out; }
        for (long k = 0; k < (count > 0 ? (long)count : 0); k++) {
            char buf[64];
            tf_format_float(v[0] + (double)k * v[2], buf, sizeof buf);
            add_choice(ov, dup_range(buf, 0, strlen(buf)));
        }
    }
    if (ov->n_choices == 0) { fail_at(p, "range() is empty"); goto out; }
    rc = 0;
out:
    for (int k = 0; k < 3; k++) tf_node_free(args[k]);
    return rc;
}

static int parse_sweep_or_value(P *p, int allow_sweep, TfOverride *ov) {
    skip_ws(p);
    static const char *fns[] = {"choice(", "range(", "interval(", "glob(", "sort(", "shuffle(", "tag("};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        if (strncmp(p->s + p->pos, fns[k], strlen(fns[k]))) continue;
        if (!allow_sweep)
            return tf_cfg_fail(p->err, "add -m (--multirun) to run a sweep",
                               "override '%s' is a sweep, but this is not a multirun", p->whole);
        if (k >= 2)
            return tf_cfg_fail(p->err, "use a,b,c, choice(a,b) or range(start,stop[,step])",
                               "override '%s': %.*s) is not supported", p->whole, (int)strlen(fns[k]) - 1, fns[k]);
        p->pos += strlen(fns[k]);
        if (k == 1) {
            if (expand_range(p, ov)) return -1;
        } else {
            for (;;) {
                size_t start = p->pos;
                TfCfgNode *v = NULL;
                if (parse_element(p, CTX_CALL, &v, 0)) return -1;
                tf_node_free(v);
                add_choice(ov, dup_range(p->s, start, p->pos));
                skip_ws(p);
                if (p->s[p->pos] == ',') { p->pos++; continue; }
                if (p->s[p->pos] == ')') { p->pos++; break; }
                return fail_at(p, "expected ',' or ')' in choice()");
            }
        }
        skip_ws(p);
        if (p->s[p->pos]) return fail_at(p, "unexpected text after the sweep");
        return 0;
    }
    size_t start = p->pos;
    TfCfgNode *v = NULL;
    if (parse_element(p, CTX_TOP, &v, 0)) return -1;
    if (p->s[p->pos] != ',') { ov->value = v; return 0; }
    tf_node_free(v);
    if (!allow_sweep)
        return tf_cfg_fail(p->err, "add -m (--multirun) to sweep, or quote the value / use [a,b] for a list",
                           "ambiguous value in override '%s': a top-level ',' makes a sweep", p->whole);
    add_choice(ov, dup_range(p->s, start, p->pos));
    while (p->s[p->pos] == ',') {
        p->pos++;
        start = p->pos;
        if (parse_element(p, CTX_TOP, &v, 0)) return -1;
        tf_node_free(v);
        add_choice(ov, dup_range(p->s, start, p->pos));
    }
    return 0;
}

int tf_override_parse(const char *text, int allow_sweep, TfOverride *ov, TfCfgError *err) {
    memset(ov, 0, sizeof *ov);
    ov->text = text;
    const char *s = text;
    if (s[0] == '~') { ov->kind = TF_OV_DELETE; s++; }
    else if (s[0] == '+' && s[1] == '+') { ov->kind = TF_OV_FORCE_ADD; s += 2; }
    else if (s[0] == '+') { ov->kind = TF_OV_ADD; s++; }
    else ov->kind = TF_OV_CHANGE;
    size_t k = 0;
    while (s[k] && s[k] != '=') {
        char c = s[k];
        if (c == '@')
            return tf_cfg_fail(err, "package overrides (group@pkg) are not supported",
                               "cannot parse override '%s': '@' in the key", text);
        if (!(isalnum((unsigned char)c) || strchr("_-./", c)))
            return tf_cfg_fail(err, OV_HINT, "cannot parse override '%s': invalid character '%c' in the key",
                               text, c);
        k++;
    }
    if (k == 0 || k >= sizeof ov->key || s[0] == '.' || s[k - 1] == '.')
        return tf_cfg_fail(err, OV_HINT, "cannot parse override '%s': missing or malformed key", text);
    memcpy(ov->key, s, k);
    ov->key[k] = '\0';
    if (strstr(ov->key, ".."))
        return tf_cfg_fail(err, OV_HINT, "cannot parse override '%s': empty key component", text);
    if (!s[k]) {
        if (ov->kind == TF_OV_DELETE) return 0;
        return tf_cfg_fail(err, OV_HINT, "cannot parse override '%s': missing '=value'", text);
    }
    P p = {.s = s + k + 1, .pos = 0, .whole = text, .err = err};
    if (!p.s[0] && ov->kind != TF_OV_DELETE) { ov->value = tf_node_str(""); return 0; }
    int rc = parse_sweep_or_value(&p, allow_sweep && ov->kind != TF_OV_DELETE, ov);
    if (rc) tf_override_free(ov);
    return rc;
}

void tf_override_free(TfOverride *ov) {
    tf_node_free(ov->value);
    ov->value = NULL;
    for (size_t k = 0; k < ov->n_choices; k++) free(ov->choices[k]);
    free(ov->choices);
    ov->choices = NULL;
    ov->n_choices = 0;
}

int tf_override_parse_value(const char *text, TfCfgNode **out, TfCfgError *err) {
    P p = {.s = text, .pos = 0, .whole = text, .err = err};
    *out = NULL;
    if (parse_element(&p, CTX_TOP, out, 0)) return -1;
    if (p.s[p.pos]) { tf_node_free(*out); *out = NULL; return fail_at(&p, "unexpected ','"); }
    return 0;
}
