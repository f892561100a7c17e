/* hash.h - SHA-256 (FIPS 180-4) and MD5 (RFC 1321) for checking downloaded data.
 * Streaming contexts plus a helper that hashes a file's bytes, or the decompressed
 * bytes of a gzip file. Knows nothing about datasets. */
#ifndef TF_DATA_HASH_H
#define TF_DATA_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t used;
} TfSha256;

typedef struct {
    uint32_t h[4];
    uint64_t len;
    uint8_t buf[64];
    size_t used;
} TfMd5;

void tf_sha256_init(TfSha256 *s);
void tf_sha256_update(TfSha256 *s, const void *data, size_t n);
void tf_sha256_final(TfSha256 *s, uint8_t out[32]);
void tf_md5_init(TfMd5 *s);
void tf_md5_update(TfMd5 *s, const void *data, size_t n);
void tf_md5_final(TfMd5 *s, uint8_t out[16]);

/* Lower-case hex of a digest into hex[2n+1]. */
void tf_hex(const uint8_t *digest, size_t n, char *hex);

/* Hash a file: sha256_hex[65] and md5_hex[33] (either may be NULL) and its size in bytes.
 * gunzip = 1 hashes the decompressed stream (plain files read as they are).
 * Returns 0, or -1 with err naming the file. */
int tf_hash_file(const char *path, int gunzip, char *sha256_hex, char *md5_hex, uint64_t *size, char *err,
                 size_t errcap);

#endif
