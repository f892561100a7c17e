/* yaml_min.c - minimal YAML scalar emit/read for meta.yaml files (yaml_min.h).
 * This file must not know about models, MPI, training or MLflow's directory layout. */
#include "track/yaml_min.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int tf_yaml_printable(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F) return 0;
    return 1;
}

static int plain_ok(const char *s) {
    static const char *const words[] = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"};
    if (!isalpha((unsigned char)s[0])) return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_./-", *p)) return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i]) == 0) return 0;
    return 1;
}

void tf_yaml_quoted(TfStrBuf *b, const char *s) {
    tf_sb_append(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'') tf_sb_append(b, "''", 2);
        else tf_sb_append(b, s, 1);
    }
    tf_sb_append(b, "'", 1);
}

void tf_yaml_scalar(TfStrBuf *b, const char *s) {
    if (plain_ok(s)) tf_sb_puts(b, s);
    else tf_yaml_quoted(b, s);
}

/* Gather the value text of key: the rest of its line plus indented continuation lines,
 * each folded into one space (YAML line folding of flow scalars). */
static int gather(const char *doc, const char *key, char *raw, size_t cap) {
    size_t kl = strlen(key);
    const char *line = doc;
    while (line && *line) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':' && (line[kl + 1] == ' ' || line[kl + 1] == '\n' ||
                                                              line[kl + 1] == '\0' || line[kl + 1] == '\r'))
            break;
        line = strchr(line, '\n');
        if (line) line++;
    }
    if (!line || !*line) return -1;
    const char *p = line + kl + 1;
    size_t n = 0;
    for (int first = 1;; first = 0) {
        while (*p == ' ' || *p == '\t') p++;
        const char *end = p;
        while (*end && *end != '\n') end++;
        const char *e = end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t')) e--;
        if (!first && e > p && n > 0) {
            if (n + 1 >= cap) return -1;
            raw[n++] = ' ';
        }
        if ((size_t)(e - p) + n >= cap) return -1;
        memcpy(raw + n, p, (size_t)(e - p));
        n += (size_t)(e - p);
        if (!*end) break;
        p = end + 1;
        if (*p != ' ' && *p != '\t') break; /* next top-level key */
    }
    raw[n] = '\0';
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Append code point cp as UTF-8; -1 when it does not fit. */
static int put_utf8(char *out, size_t cap, size_t *n, unsigned long cp) {
    unsigned char u[4];
    int k;
    if (cp < 0x80) { u[0] = (unsigned char)cp; k = 1; }
    else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | (cp >> 6)); u[1] = (unsigned char)(0x80 | (cp & 63)); k = 2; }
    else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12)); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        u[2] = (unsigned char)(0x80 | (cp & 63)); k = 3;
    } else if (cp < 0x110000) {
        u[0] = (unsigned char)(0xF0 | (cp >> 18)); u[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)); u[3] = (unsigned char)(0x80 | (cp & 63)); k = 4;
    } else return -1;
    if (*n + (size_t)k >= cap) return -1;
    memcpy(out + *n, u, (size_t)k);
    *n += (size_t)k;
    return 0;
}

int tf_yaml_get(const char *doc, const char *key, char *out, size_t cap) {
    char raw[2048];
    if (cap == 0 || gather(doc, key, raw, sizeof raw) != 0) return -1;
    size_t n = 0, len = strlen(raw);
    if (raw[0] == '\'') {
        size_t i = 1;
        for (; i < len; i++) {
            if (raw[i] == '\'') {
                if (raw[i + 1] == '\'') i++;
                else break;
            }
            if (n + 1 >= cap) return -1;
            out[n++] = raw[i];
        }
        if (i != len - 1) return -1; /* unterminated, or text after the closing quote */
    } else if (raw[0] == '"') {
        size_t i = 1;
        for (; i < len && raw[i] != '"'; i++) {
            if (raw[i] != '\\') {
                if (n + 1 >= cap) return -1;
                out[n++] = raw[i];
                continue;
            }
            char c = raw[++i];
            unsigned long cp = 0;
            int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
            if (digits) {
                for (int d = 0; d < digits; d++) {
                    int h = hexval(raw[i + 1]);
                    if (h < 0) return -1;
                    cp = cp * 16 + (unsigned long)h;
                    i++;
                }
            } else {
                const char *from = "0abtnvfre \"/\\N_LP", *to = "\0\a\b\t\n\v\f\r\x1b \"/\\";
                const char *f = c ? strchr(from, c) : NULL;
                if (!f) return -1;
                size_t k = (size_t)(f - from);
                cp = k < 13 ? (unsigned char)to[k] : k == 13 ? 0x85 : k == 14 ? 0xA0 : k == 15 ? 0x2028 : 0x2029;
            }
            if (put_utf8(out, cap, &n, cp) != 0) return -1;
        }
        if (i != len - 1) return -1;
    } else {
        if (len >= cap) return -1;
        memcpy(out, raw, len + 1); /* with the NUL */
        n = len;
        /* Strip a trailing " #comment". */
        char *hash = strstr(out, " #");
        if (hash) {
            n = (size_t)(hash - out);
            while (n > 0 && out[n - 1] == ' ') n--;
        }
    }
    out[n] = '\0';
    return 0;
}
