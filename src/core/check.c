/* check.c - tf_die() and the checked allocation / stdio helpers of check.h.
 * Knows nothing about MPI: the dist layer installs an abort hook. */
#include "core/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int g_rank = 0;
static TfAbortHook g_abort_hook = NULL;

void tf_set_rank(int rank) { g_rank = rank; }
int tf_rank(void) { return g_rank; }
void tf_set_abort_hook(TfAbortHook hook) { g_abort_hook = hook; }

void tf_die_at(const char *file, int line, int exit_code, const char *hint, const char *fmt, ...) {
    fflush(stdout);
    /* Strip the directory part of __FILE__ up to "src/" so messages stay short. */
    const char *s = strstr(file, "src/");
    const char *shown = s ? s : file;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[rank %d] %s:%d: %s\n", g_rank, shown, line, msg);
    if (hint && hint[0]) fprintf(stderr, "  hint: %s\n", hint);
    fflush(stderr);
    if (g_abort_hook) g_abort_hook(exit_code);
    exit(exit_code);
}

void *tf_malloc_at(const char *file, int line, size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) tf_die_at(file, line, TF_EXIT_FAILURE, "free memory or lower the batch size",
                      "out of memory allocating %zu bytes", n);
    return p;
}

void *tf_calloc_at(const char *file, int line, size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) tf_die_at(file, line, TF_EXIT_FAILURE, "free memory or lower the batch size",
                      "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *tf_aligned_alloc_at(const char *file, int line, size_t n) {
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) tf_die_at(file, line, TF_EXIT_FAILURE, NULL, "allocation size overflow");
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) tf_die_at(file, line, TF_EXIT_FAILURE, "free memory or lower the batch size",
                      "out of memory allocating %zu bytes", n);
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

FILE *tf_fopen_at(const char *file, int line, const char *path, const char *mode) {
    FILE *f = fopen(path, mode);
    if (!f) tf_die_at(file, line, TF_EXIT_FAILURE, "check the path and its permissions",
                      "cannot open '%s' (mode %s): %s", path, mode, strerror(errno));
    return f;
}

void tf_fread_at(const char *file, int line, void *buf, size_t size, size_t n, FILE *f,
                 const char *path) {
    size_t got = fread(buf, size, n, f);
    if (got != n)
        tf_die_at(file, line, TF_EXIT_FAILURE, "the file is truncated or unreadable; re-create it",
                  "short read from '%s': wanted %zu items of %zu bytes, got %zu%s%s", path, n,
                  size, got, ferror(f) ? ": " : "", ferror(f) ? strerror(errno) : "");
}

void tf_fwrite_at(const char *file, int line, const void *buf, size_t size, size_t n, FILE *f,
                  const char *path) {
    size_t put = fwrite(buf, size, n, f);
    if (put != n)
        tf_die_at(file, line, TF_EXIT_FAILURE, "check free disk space and permissions",
                  "short write to '%s': wanted %zu items, wrote %zu: %s", path, n, put,
                  strerror(errno));
}

size_t tf_mul_size(size_t a, size_t b, const char *what) {
    if (a != 0 && b > SIZE_MAX / a)
        tf_die_usage("the input is corrupt or absurdly large", "size overflow computing %s", what);
    return a * b;
}
