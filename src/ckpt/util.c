/* util.c - checksums (CRC-32C, FNV-1a 64), the checkpoint file-name scheme, tensor-name
 * validation and the error helper shared by src/ckpt. Knows nothing about models,
 * files' contents or the trainer. */
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"

#if defined(__SSE4_2__) && (defined(__x86_64__) || defined(__i386__))
#include <nmmintrin.h> /* _mm_crc32_u8/u64 */
#define TF_CRC32C_HW 1
#endif

// --- CRC-32C: slicing-by-8 tables (built once) and the SSE4.2 instruction -----------------
static uint32_t g_crc_table[8][256];
static pthread_once_t g_crc_once = PTHREAD_ONCE_INIT;

static void crc_build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        g_crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_crc_table[t][i] = (g_crc_table[t - 1][i] >> 8) ^ g_crc_table[0][g_crc_table[t - 1][i] & 0xff];
}

uint32_t tf_crc32c_portable(uint32_t crc, const void *p, size_t n) {
    if (pthread_once(&g_crc_once, crc_build_tables) != 0) crc_build_tables(); /* cannot fail on Linux */
    const unsigned char *b = p;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        c = g_crc_table[7][lo & 0xff] ^ g_crc_table[6][(lo >> 8) & 0xff] ^ g_crc_table[5][(lo >> 16) & 0xff] ^
            g_crc_table[4][lo >> 24] ^ g_crc_table[3][b[4]] ^ g_crc_table[2][b[5]] ^ g_crc_table[1][b[6]] ^
            g_crc_table[0][b[7]];
        b += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ g_crc_table[0][(c ^ *b++) & 0xff];
    return ~c;
}

uint32_t tf_crc32c(uint32_t crc, const void *p, size_t n) {
#ifdef TF_CRC32C_HW
    const unsigned char *b = p;
    uint64_t c = (uint32_t)~crc;
    while (n && ((uintptr_t)b & 7)) { c = _mm_crc32_u8((uint32_t)c, *b++); n--; }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        c = _mm_crc32_u64(c, w);
        b += 8;
        n -= 8;
    }
    while (n--) c = _mm_crc32_u8((uint32_t)c, *b++);
    return ~(uint32_t)c;
#else
    return tf_crc32c_portable(crc, p, n);
#endif
}

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
