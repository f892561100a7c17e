/* yaml_io.c - libyaml event parser into TfCfgNode trees, a YAML writer, atomic file writes.
 * Knows nothing about Hydra defaults lists or tinyflow's keys. */
#include "config/yaml_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "core/check.h"

typedef struct {
    yaml_parser_t parser;
    const char *name;
    TfCfgError *err;
} Reader;

static int next_event(Reader *r, yaml_event_t *ev) {
    if (!yaml_parser_parse(&r->parser, ev))
        return tf_cfg_fail(r->err, "fix the YAML syntax", "%s:%zu:%zu: YAML error: %s%s%s", r->name,
                           r->parser.problem_mark.line + 1, r->parser.problem_mark.column + 1,
                           r->parser.problem ? r->parser.problem : "syntax error",
                           r->parser.context ? " " : "", r->parser.context ? r->parser.context : "");
    return 0;
}

static int parse_node(Reader *r, yaml_event_t *ev, TfCfgNode **out, int depth);

static int parse_children(Reader *r, TfCfgNode *node, int depth) {
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev)) return -1;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (node->type == TF_NODE_LIST) {
            TfCfgNode *item = NULL;
            if (parse_node(r, &ev, &item, depth + 1)) return -1;
            tf_node_list_append(node, item);
            continue;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            size_t line = ev.start_mark.line + 1;
            yaml_event_delete(&ev);
            return tf_cfg_fail(r->err, "keys must be plain strings", "%s:%zu: a mapping key is not a scalar",
                               r->name, line);
        }
        char key[256];
        snprintf(key, sizeof key, "%s", (const char *)ev.data.scalar.value);
        size_t line = ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (!key[0] || strchr(key, '.'))
            return tf_cfg_fail(r->err, "use nested mappings instead of dotted keys",
                               "%s:%zu: key '%s' is empty or contains '.'", r->name, line, key);
        if (tf_node_dict_get(node, key))
            return tf_cfg_fail(r->err, "remove one of the two", "%s:%zu: duplicate key '%s'", r->name, line, key);
        TfCfgNode *value = NULL;
        if (next_event(r, &ev)) return -1;
        if (parse_node(r, &ev, &value, depth + 1)) return -1;
        tf_node_dict_set(node, key, value);
    }
}

/* Consumes ev. */
static int parse_node(Reader *r, yaml_event_t *ev, TfCfgNode **out, int depth) {
    size_t line = ev->start_mark.line + 1;
    if (depth > 64) {
        yaml_event_delete(ev);
        return tf_cfg_fail(r->err, NULL, "%s:%zu: nesting deeper than 64 levels", r->name, line);
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        const char *tag = (const char *)ev->data.scalar.tag;
        if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !(tag && strstr(tag, ":str")))
            *out = tf_node_from_plain(v, 1);
        else
            *out = tf_node_str(v);
        yaml_event_delete(ev);
        return 0;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        *out = tf_node_new(ev->type == YAML_MAPPING_START_EVENT ? TF_NODE_DICT : TF_NODE_LIST);
        yaml_event_delete(ev);
        if (parse_children(r, *out, depth)) { tf_node_free(*out); *out = NULL; return -1; }
        return 0;
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return tf_cfg_fail(r->err, "write the value out, or use an interpolation ${key}",
                           "%s:%zu: YAML aliases (*name) are not supported", r->name, line);
    default:
        yaml_event_delete(ev);
        return tf_cfg_fail(r->err, NULL, "%s:%zu: unexpected YAML event", r->name, line);
    }
}

int tf_yaml_load_string(const char *text, size_t len, const char *name, TfCfgNode **out, TfCfgError *err) {
    Reader r = {.name = name, .err = err};
    *out = NULL;
    if (!yaml_parser_initialize(&r.parser)) return tf_cfg_fail(err, NULL, "libyaml: cannot initialise a parser");
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    TfCfgNode *root = NULL;
    int rc = -1, docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(&r, &ev)) break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) { yaml_event_delete(&ev); rc = 0; break; }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) { yaml_event_delete(&ev); continue; }
        if (t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            if (++docs > 1) { tf_cfg_fail(err, NULL, "%s: more than one YAML document", name); break; }
            continue;
        }
        if (parse_node(&r, &ev, &root, 0)) break;
        if (root->type != TF_NODE_DICT && !(root->type == TF_NODE_NULL)) {
            tf_cfg_fail(err, "a config file holds a mapping (key: value lines)",
                        "%s: the top level is a %s, not a mapping", name, tf_node_type_name(root->type));
            break;
        }
    }
    yaml_parser_delete(&r.parser);
    if (rc) { tf_node_free(root); return -1; }
    if (!root || root->type == TF_NODE_NULL) { tf_node_free(root); root = tf_node_new(TF_NODE_DICT); }
    *out = root;
    return 0;
}

int tf_yaml_load_file(const char *path, TfCfgNode **out, int *global_package, TfCfgError *err) {
    *out = NULL;
    if (global_package) *global_package = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tf_cfg_fail(err, "check the config directory (--config-dir)", "cannot open '%s': %s",
                               path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *text = tf_malloc(cap);
    size_t got;
    while ((got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            if (cap >= (16u << 20)) { fclose(f); free(text); return tf_cfg_fail(err, NULL, "'%s' is over 16 MiB", path); }
            cap *= 2;
            char *t2 = realloc(text, cap);
            if (!t2) { fclose(f); free(text); return tf_cfg_fail(err, NULL, "out of memory reading '%s'", path); }
            text = t2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(text); return tf_cfg_fail(err, NULL, "read error on '%s'", path); }
    /* Header comments: `# @package _global_` (Hydra's only package we support besides the default). */
    const char *p = text;
    while (p < text + len && *p == '#') {
        const char *eol = memchr(p, '\n', (size_t)(text + len - p));
        size_t L = eol ? (size_t)(eol - p) : (size_t)(text + len - p);
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(L < 255 ? L : 255), p);
        char *at = strstr(line, "@package");
        if (at) {
            char pkg[128] = "";
            sscanf(at + 8, " %127s", pkg);
            if (!strcmp(pkg, "_global_")) { if (global_package) *global_package = 1; }
            else if (strcmp(pkg, "_group_")) {
                free(text);
                return tf_cfg_fail(err, "only `# @package _global_` is supported", "%s: unsupported package '%s'",
                                   path, pkg);
            }
        }
        if (!eol) break;
        p = eol + 1;
    }
    int rc = tf_yaml_load_string(text, len, path, out, err);
    free(text);
    return rc;
}

/* --- writer ---------------------------------------------------------------------------- */

/* Fuzzing fix (tests/fuzz_regressions/yaml): characters that libyaml does not read back as
 * themselves when written raw - C0 controls and DEL, C1 controls (U+0080..U+009F; U+0085 NEL
 * is a YAML 1.1 line break), U+2028/U+2029 (line/paragraph separators), U+FEFF (BOM) and
 * U+FFFE/U+FFFF. Returns the UTF-8 length of the one at p (0 if none) and its code point. */
static int needs_escape(const char *s, unsigned *cp) {
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x20 || p[0] == 0x7f) return *cp = p[0], 1;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) return *cp = p[1], 2;
    if ((p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) || (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) ||
        (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)))
        return *cp = (unsigned)(p[0] & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F), 3;
    return 0;
}

static int plain_ok(const char *s, int flow) {
    if (!s[0] || tf_node_plain_is_special(s) || !strcmp(s, "???")) return 0;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) || s[0] == ' ' || s[strlen(s) - 1] == ' ') return 0;
    if (strstr(s, ": ") || strstr(s, " #") || s[strlen(s) - 1] == ':') return 0;
    for (const char *p = s; *p; p++) {
        unsigned cp;
        if (needs_escape(p, &cp)) return 0;
        /* Fuzzing fix: in a flow list libyaml refuses a ':' inside a plain scalar ("a:b"). */
        if (flow && strchr(",[]{}:", *p)) return 0;
    }
    return 1;
}

static void put_str(const char *s, int flow, FILE *f) {
    if (plain_ok(s, flow)) { fputs(s, f); return; }
    int needs_double = 0;
    unsigned cp;
    for (const char *p = s; *p; p++) needs_double |= needs_escape(p, &cp) != 0;
    if (!needs_double) {
        fputc('\'', f);
        for (const char *p = s; *p; p++) {
            if (*p == '\'') fputc('\'', f);
            fputc(*p, f);
        }
        fputc('\'', f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        int n = needs_escape(p, &cp);
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (n && cp < 0x100) fprintf(f, "\\x%02x", cp), p += n - 1;
        else if (n) fprintf(f, "\\u%04x", cp), p += n - 1;
        else fputc(c, f);
    }
    fputc('"', f);
}

static void put_scalar(const TfCfgNode *n, int flow, FILE *f) {
    char buf[64];
    switch (n->type) {
    case TF_NODE_NULL: fputs("null", f); break;
    case TF_NODE_MISSING: fputs("???", f); break;
    case TF_NODE_BOOL: fputs(n->b ? "true" : "false", f); break;
    case TF_NODE_INT: fprintf(f, "%lld", (long long)n->i); break;
    case TF_NODE_FLOAT: tf_format_float(n->f, buf, sizeof buf); fputs(buf, f); break;
    case TF_NODE_STR: put_str(n->s, flow, f); break;
    default: TF_ASSERT(0);
    }
}

static int is_container(const TfCfgNode *n) { return n->type == TF_NODE_LIST || n->type == TF_NODE_DICT; }

static int flat_list(const TfCfgNode *n) {
    for (size_t k = 0; k < n->n; k++)
        if (is_container(n->items[k])) return 0;
    return 1;
}

static void indent(int level, FILE *f) {
    for (int k = 0; k < level; k++) fputs("  ", f);
}

static void dump_value(const TfCfgNode *n, int level, FILE *f);

static void dump_dict(const TfCfgNode *n, int level, FILE *f) {
    for (size_t k = 0; k < n->n; k++) {
        indent(level, f);
        put_str(n->keys[k], 0, f);
        fputc(':', f);
        dump_value(n->items[k], level, f);
    }
}

/* Writes what follows "key:" or "- " (leading space/newline included) and the newline. */
static void dump_value(const TfCfgNode *n, int level, FILE *f) {
    if (n->type == TF_NODE_DICT && n->n) {
        fputc('\n', f);
        dump_dict(n, level + 1, f);
    } else if (n->type == TF_NODE_DICT) {
        fputs(" {}\n", f);
    } else if (n->type == TF_NODE_LIST && flat_list(n)) {
        fputs(" [", f);
        for (size_t k = 0; k < n->n; k++) {
            if (k) fputs(", ", f);
            put_scalar(n->items[k], 1, f);
        }
        fputs("]\n", f);
    } else if (n->type == TF_NODE_LIST) {
        fputc('\n', f);
        for (size_t k = 0; k < n->n; k++) {
            indent(level + 1, f);
            fputc('-', f);
            const TfCfgNode *it = n->items[k];
            if (it->type == TF_NODE_DICT && it->n) {
                /* "- " then the first key inline, the rest indented under it. */
                fputc('\n', f);
                dump_dict(it, level + 2, f);
            } else {
                dump_value(it, level + 1, f);
            }
        }
    } else {
        fputc(' ', f);
        put_scalar(n, 0, f);
        fputc('\n', f);
    }
}

void tf_yaml_dump(const TfCfgNode *root, FILE *f) {
    if (root->type == TF_NODE_DICT) {
        if (root->n == 0) fputs("{}\n", f);
        else dump_dict(root, 0, f);
    } else if (root->type == TF_NODE_LIST && !flat_list(root)) {
        for (size_t k = 0; k < root->n; k++) {
            fputc('-', f);
            dump_value(root->items[k], 0, f);
        }
    } else if (root->type == TF_NODE_LIST) {
        for (size_t k = 0; k < root->n; k++) {
            fputs("- ", f);
            put_scalar(root->items[k], 0, f);
            fputc('\n', f);
        }
        if (root->n == 0) fputs("[]\n", f);
    } else {
        put_scalar(root, 0, f);
        fputc('\n', f);
    }
}

int tf_write_file_atomic(const char *path, const char *text, size_t len, TfCfgError *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return tf_cfg_fail(err, NULL, "path too long: '%s'", path);
    /* Path-safety fix (reliability: symlinks at temporary names are not followed): the temp
     * name is predictable (pid), so create it exclusively and never through a symlink; a
     * leftover file or planted link there is removed (the entry, not its target) and the
     * create retried once. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return tf_cfg_fail(err, "check the directory exists and is writable", "cannot create '%s': %s",
                                    tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return tf_cfg_fail(err, "check free disk space", "write to '%s' failed: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        int e = errno;
        unlink(tmp);
        return tf_cfg_fail(err, NULL, "fsync/close of '%s' failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return tf_cfg_fail(err, NULL, "rename '%s' -> '%s' failed: %s", tmp, path, strerror(e));
    }
    /* Make the rename itself durable. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0'; else snprintf(dir, sizeof dir, ".");
    int dfd = open(dir[0] ? dir : "/", O_RDONLY);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return 0;
}
