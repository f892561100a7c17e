/* util.c - the FNV-1a 64 config hash (CRC-32C lives in core/crc32c.c), the checkpoint file-name scheme, tensor-name
 * validation and the error helper shared by src/ckpt. Knows nothing about models,
 * files' contents or the trainer. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"


uint64_t tf_ckpt_config_hash(const char *text) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ull;          /* FNV prime */
    }
    return h;
}

// --- names ---------------------------------------------------------------------------------
static const char *const g_suffix[] = {".ckpt", ".done", ".ckpt.tmp", ".done.tmp"};

void tf_ckpt_file_name(char *buf, size_t cap, uint64_t step, TfCkptKind kind) {
    snprintf(buf, cap, "step_%08" PRIu64 "%s", step, g_suffix[kind]);
}

int tf_ckpt_parse_file_name(const char *name, uint64_t *step, TfCkptKind *kind) {
    if (strncmp(name, "step_", 5) != 0) return 0;
    const char *p = name + 5;
    uint64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 20 || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (digits < 8) return 0; /* we always write at least 8 digits */
    for (int k = 0; k < 4; k++)
        if (strcmp(p, g_suffix[k]) == 0) {
            *step = v;
            *kind = (TfCkptKind)k;
            return 1;
        }
    return 0;
}

int tf_ckpt_check_name(const char *s, size_t len, char *why, size_t cap) {
    if (len == 0) return tf_ckpt_fail(why, cap, "empty tensor name");
    if (len > TF_CKPT_NAME_MAX)
        return tf_ckpt_fail(why, cap, "tensor name of %zu bytes (the limit is %d)", len, TF_CKPT_NAME_MAX);
    size_t slash = len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            char q[64];
            tf_ckpt_quote(s, len < 40 ? len : 40, q, sizeof q);
            return tf_ckpt_fail(why, cap, "tensor name \"%s\" has a non-printable or blank byte 0x%02x at %zu", q,
                                c, i);
        }
        if (c == '/' && slash == len) slash = i;
    }
    for (size_t i = 0; i < slash && slash < len; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_')) slash = len;
    if (slash == 0 || slash >= len - 1) {
        char q[TF_CKPT_NAME_MAX + 8];
        tf_ckpt_quote(s, len, q, sizeof q);
        return tf_ckpt_fail(why, cap, "tensor name \"%s\" is not of the form group/name (group in [a-z0-9_])", q);
    }
    return 0;
}

void tf_ckpt_quote(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    if (!cap) return;
    for (size_t i = 0; i < n && s[i] && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o < cap ? o : cap - 1] = '\0';
}

int tf_ckpt_fail(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}
