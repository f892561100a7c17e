/* check.h - the one error path of tinyflow.
 *
 * Every failure ends in tf_die(): it flushes stdout, prints
 *   [rank r] file:line: message
 *     hint: what to do about it
 * to stderr and then calls the abort hook (the dist layer installs MPI_Abort
 * there, so no rank hangs waiting for a dead peer) or exit(exit_code).
 * This file must not know about MPI, CUDA or any model: those layers install
 * hooks or wrap their own calls with TF_CHECK.
 */
#ifndef TF_CORE_CHECK_H
#define TF_CORE_CHECK_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes shared by the whole program. */
enum {
    TF_EXIT_OK = 0,
    TF_EXIT_FAILURE = 1, /* runtime failure (I/O, numerics, a peer died) */
    TF_EXIT_USAGE = 2,   /* bad command line, config or input the user gave */
    TF_EXIT_WATCHDOG = 3 /* a step or collective exceeded its time limit */
};

#if defined(__GNUC__)
#define TF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TF_NORETURN __attribute__((noreturn))
#else
#define TF_PRINTF(a, b)
#define TF_NORETURN
#endif

/* Rank shown in messages; set once by the dist layer (default 0). */
void tf_set_rank(int rank);
int tf_rank(void);

/* Called by tf_die() instead of exit() when set (e.g. MPI_Abort(world, code)). */
typedef void (*TfAbortHook)(int exit_code);
void tf_set_abort_hook(TfAbortHook hook);

/* Print "[rank r] file:line: msg" (+ "  hint: ..." when hint != NULL) and abort. */
TF_NORETURN void tf_die_at(const char *file, int line, int exit_code, const char *hint,
                           const char *fmt, ...) TF_PRINTF(5, 6);

#define tf_die(...) tf_die_at(__FILE__, __LINE__, TF_EXIT_FAILURE, NULL, __VA_ARGS__)
#define tf_die_hint(hint, ...) tf_die_at(__FILE__, __LINE__, TF_EXIT_FAILURE, hint, __VA_ARGS__)
#define tf_die_usage(hint, ...) tf_die_at(__FILE__, __LINE__, TF_EXIT_USAGE, hint, __VA_ARGS__)

/* Internal invariant (a bug in tinyflow, not the user's input). Always on. */
#define TF_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) tf_die_at(__FILE__, __LINE__, TF_EXIT_FAILURE,                      \
                               "this is a bug in tinyflow; please report it",            \
                               "internal check failed: %s", #cond);                     \
    } while (0)

/* Checked allocation helpers: never return NULL. Not for use inside a training step. */
void *tf_malloc_at(const char *file, int line, size_t n);
void *tf_calloc_at(const char *file, int line, size_t count, size_t size);
void *tf_aligned_alloc_at(const char *file, int line, size_t n); /* 64-byte aligned, zeroed */
#define tf_malloc(n) tf_malloc_at(__FILE__, __LINE__, (n))
#define tf_calloc(c, s) tf_calloc_at(__FILE__, __LINE__, (c), (s))
#define tf_aligned_alloc(n) tf_aligned_alloc_at(__FILE__, __LINE__, (n))

/* Checked stdio: die naming the path and errno text on failure. */
FILE *tf_fopen_at(const char *file, int line, const char *path, const char *mode);
void tf_fread_at(const char *file, int line, void *buf, size_t size, size_t n, FILE *f,
                 const char *path);
void tf_fwrite_at(const char *file, int line, const void *buf, size_t size, size_t n, FILE *f,
                  const char *path);
#define tf_fopen(p, m) tf_fopen_at(__FILE__, __LINE__, (p), (m))
#define tf_fread(b, s, n, f, p) tf_fread_at(__FILE__, __LINE__, (b), (s), (n), (f), (p))
#define tf_fwrite(b, s, n, f, p) tf_fwrite_at(__FILE__, __LINE__, (b), (s), (n), (f), (p))

/* Overflow-checked size arithmetic for lengths read from files: die on overflow. */
size_t tf_mul_size(size_t a, size_t b, const char *what);

#endif
