/* ckpt_internal.h - what the files of src/ckpt share and nobody else may use:
 * checksums, the file-name scheme, the byte layout constants, the error helper and
 * the fault-injection hook. Knows nothing about models or the trainer. */
#ifndef TF_CKPT_INTERNAL_H
#define TF_CKPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h" /* TF_PRINTF */
#include "ckpt/ckpt.h"
#include "core/crc32c.h"

/* Payloads are the host's float bytes, which the format defines as little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tinyflow checkpoints store little-endian float32: add byte swapping for this host"
#endif

/* ---- byte layout (docs/checkpoints.md) --------------------------------------------------- */
#define TF_CKPT_MAGIC "\x89TFCKPT\n"  /* 8 bytes; the high byte catches 7-bit transfers */
#define TF_CKPT_MAGIC_BYTES 8
#define TF_CKPT_HEADER_BYTES 16        /* magic, u32le version, u32le crc32c(first 12 bytes) */
#define TF_CKPT_FRAME_BYTES 8          /* u32le payload length, u32le crc32c(payload) */
#define TF_CKPT_MAX_FOOTER_BYTES 256
#define TF_CKPT_MARKER_MAX 1024        /* bytes of a .done marker */

static inline void tf_put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline uint32_t tf_get_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- checksums -------------------------------------------------------------------------- */
/* CRC-32C: core/crc32c.h (tf_crc32c_extend). */

/* ---- names ------------------------------------------------------------------------------ */
typedef enum { TF_CKPT_FILE, TF_CKPT_DONE, TF_CKPT_FILE_TMP, TF_CKPT_DONE_TMP } TfCkptKind;
/* "step_%08llu" + ".ckpt" / ".done" / ".ckpt.tmp" / ".done.tmp". */
void tf_ckpt_file_name(char *buf, size_t cap, uint64_t step, TfCkptKind kind);
/* Parse a directory entry name of that scheme: 1 with step/kind, 0 when it is not ours. */
int tf_ckpt_parse_file_name(const char *name, uint64_t *step, TfCkptKind *kind);
/* A tensor name is 1..TF_CKPT_NAME_MAX printable ASCII bytes without blanks, of the form
 * group/rest with group in [a-z0-9_]+. 0 when valid, else -1 with the reason in why. */
int tf_ckpt_check_name(const char *s, size_t len, char *why, size_t cap);
/* Put at most n bytes of s, escaping the unprintable, into out (for messages). */
void tf_ckpt_quote(const char *s, size_t n, char *out, size_t cap);

/* ---- errors ----------------------------------------------------------------------------- */
/* snprintf into err (when err && cap) and return -1. */
int tf_ckpt_fail(char *err, size_t cap, const char *fmt, ...) TF_PRINTF(3, 4);

/* ---- shared by load.c and dir.c ---------------------------------------------------------- */
/* Parse an open checkpoint file; `shown` is the path used in messages. Does not close fd. */
int tf_ckpt_load_fd(int fd, const char *shown, TfCkpt **out, char *err, size_t cap);
/* Read dir's marker for step: 0 and the checkpoint's byte count, or -1 with the reason. */
int tf_ckpt_read_marker(int dirfd, uint64_t step, uint64_t *bytes, char *why, size_t cap);

/* ---- fault injection -------------------------------------------------------------------- */
typedef enum {
    TF_FAULT_OPEN, TF_FAULT_WRITE, TF_FAULT_FSYNC, TF_FAULT_CLOSE, TF_FAULT_RENAME,
    TF_FAULT_DIRSYNC, TF_FAULT_MARK, TF_FAULT_POINTS
} TfCkptFaultPoint;
#ifdef TF_FAULT_INJECTION
/* 0, or the errno the caller must fail with at this point; may _exit(137) instead. */
int tf_ckpt_fault(TfCkptFaultPoint p);
#else
static inline int tf_ckpt_fault(TfCkptFaultPoint p) { (void)p; return 0; }
#endif

#endif
