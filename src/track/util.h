/* util.h - the small helpers every tracking sink shares: checked path formatting, mkdir -p,
 * atomic file replacement (temp file in the same directory, fsync, rename, fsync of the
 * directory), file copy, wall-clock time, random bytes and a growable string buffer.
 * Every failure ends the program through core/check.h naming the path and errno text.
 * This file must not know about models, MPI, training or any tracking format. */
#ifndef TF_TRACK_UTIL_H
#define TF_TRACK_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"

/* snprintf into out[cap]; dies (usage error) when the result does not fit. */
void tf_track_path(char *out, size_t cap, const char *fmt, ...) TF_PRINTF(3, 4);

/* mkdir -p with mode 0755; dies naming the first component that cannot be created. */
void tf_track_mkdirs(const char *path);

/* 1 when path exists (any type), 0 when it does not; dies on other stat errors. */
int tf_track_exists(const char *path);
int tf_track_is_dir(const char *path);

/* Create path for writing, never through a symlink (O_CREAT|O_EXCL|O_NOFOLLOW). When something
 * is at that name: with replace, a regular file or symlink there is unlinked (the entry, not
 * its target) and the create retried once; without, or when that fails, it dies naming path.
 * Returns the fd. */
int tf_track_open_new(const char *path, int replace);

/* Replace path with data[n] atomically: write "<dir>/.<name>.tmp.<pid>" (tf_track_open_new),
 * fsync, rename. */
void tf_track_write_atomic(const char *path, const void *data, size_t n);

/* Create path with data[n] only if it does not exist yet (temp file + link(), so readers never
 * see a partial file). Returns 1 when created, 0 when path already existed (left untouched). */
int tf_track_create_exclusive(const char *path, const void *data, size_t n);

/* Whole file into a malloc'd NUL-terminated buffer (*len bytes, excluding the NUL).
 * Returns NULL with err set when it cannot be read or is larger than cap bytes. */
char *tf_track_read_file(const char *path, size_t cap, size_t *len, char *err, size_t errcap);

/* Copy src to dst atomically (dst replaced). Dies on any error. */
void tf_track_copy_file(const char *src, const char *dst);

/* Append data[n] to path (created 0644 if missing) and close it; dies on error, and when path
 * is a symlink (O_NOFOLLOW). */
void tf_track_append(const char *path, const void *data, size_t n);

/* Wall-clock time since the Unix epoch. */
int64_t tf_track_now_ms(void);
double tf_track_now_s(void);

/* n bytes from /dev/urandom; dies when it cannot be read. */
void tf_track_random_bytes(unsigned char *out, size_t n);

/* The last path component of path (pointer into path). */
const char *tf_track_basename(const char *path);

/* Growable NUL-terminated string. Zero-initialise, append, free. */
typedef struct {
    char *s;
    size_t len, cap;
} TfStrBuf;

void tf_sb_append(TfStrBuf *b, const char *s, size_t n);
void tf_sb_puts(TfStrBuf *b, const char *s);
void tf_sb_printf(TfStrBuf *b, const char *fmt, ...) TF_PRINTF(2, 3);
void tf_sb_free(TfStrBuf *b);

/* Append s with JSON string escaping (quotes included). */
void tf_sb_json_string(TfStrBuf *b, const char *s);
/* Append s with HTML text escaping (& < > " '). */
void tf_sb_html(TfStrBuf *b, const char *s);
/* Append data[n] as standard base64 (RFC 4648, with padding). */
void tf_sb_base64(TfStrBuf *b, const unsigned char *data, size_t n);

#endif
