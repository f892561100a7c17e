/* crc32c.c - CRC-32C (Castagnoli): slicing-by-8 tables, or the SSE4.2 instruction when
 * compiled for it (same result). Shared by checkpoints (per-record and per-tensor sums) and
 * TensorBoard's TFRecord framing. Knows nothing else. */
#include "core/crc32c.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE4_2__) && (defined(__x86_64__) || defined(__i386__))
#include <nmmintrin.h> /* _mm_crc32_u8/u64 */
#define TF_CRC32C_HW 1
#endif

/* ---- CRC-32C: slicing-by-8 tables (built once) and the SSE4.2 instruction ---- */
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

uint32_t tf_crc32c_extend_portable(uint32_t crc, const void *p, size_t n) {
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

uint32_t tf_crc32c_extend(uint32_t crc, const void *p, size_t n) {
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
    return tf_crc32c_extend_portable(crc, p, n);
#endif
}
