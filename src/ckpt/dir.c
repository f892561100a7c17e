/* dir.c - a checkpoint directory: which checkpoints are complete, the newest good one,
 * loading one step, and retention.
 *
 * Complete = step_N.ckpt AND step_N.done, and the marker's byte count equals the file's.
 * Temp files (*.tmp), unmarked files and orphan markers are never loaded; retention removes
 * them. Every file is opened with openat(dirfd, ...) + O_NOFOLLOW and every name used is
 * one we compose from a step number (directory entries are only parsed, never trusted as
 * paths). One writer per directory is assumed (rank 0 of one run).
 * Knows nothing about models or the trainer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt_internal.h"

typedef struct {
    uint64_t step;
    unsigned kinds; /* bit k: a file of TfCkptKind k exists */
} Entry;

static int cmp_entry_desc(const void *a, const void *b) {
    uint64_t x = ((const Entry *)a)->step, y = ((const Entry *)b)->step;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Our files in dirfd, one entry per step, newest first. */
static int scan(int dirfd, const char *dir, Entry **out, int *n_out, char *err, size_t cap) {
    *out = NULL;
    *n_out = 0;
    int fd2 = dup(dirfd);
    DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
    if (!d) {
        if (fd2 >= 0) close(fd2);
        return tf_ckpt_fail(err, cap, "cannot list checkpoint directory '%s': %s", dir, strerror(errno));
    }
    rewinddir(d);
    Entry *e = NULL;
    int n = 0, ncap = 0;
    struct dirent *de;
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        uint64_t step;
        TfCkptKind kind;
        if (!tf_ckpt_parse_file_name(de->d_name, &step, &kind)) continue;
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 64;
            Entry *g = realloc(e, (size_t)ncap * sizeof *e);
            if (!g) { free(e); closedir(d); return tf_ckpt_fail(err, cap, "out of memory listing '%s'", dir); }
            e = g;
        }
        e[n].step = step;
        e[n++].kinds = 1u << kind;
    }
    int rerr = errno;
    closedir(d);
    if (rerr) { free(e); return tf_ckpt_fail(err, cap, "cannot list checkpoint directory '%s': %s", dir, strerror(rerr)); }
    if (n) qsort(e, (size_t)n, sizeof *e, cmp_entry_desc);
    int m = 0; /* merge entries of the same step */
    for (int i = 0; i < n; i++) {
        if (m && e[m - 1].step == e[i].step) e[m - 1].kinds |= e[i].kinds;
        else e[m++] = e[i];
    }
    *out = e;
    *n_out = m;
    return 0;
}

#define COMPLETE ((1u << TF_CKPT_FILE) | (1u << TF_CKPT_DONE))

int tf_ckpt_read_marker(int dirfd, uint64_t step, uint64_t *bytes, char *why, size_t cap) {
    char name[64], text[TF_CKPT_MARKER_MAX + 1];
    tf_ckpt_file_name(name, sizeof name, step, TF_CKPT_DONE);
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return tf_ckpt_fail(why, cap, "no completion marker %s (%s): the save did not finish", name, strerror(errno));
    struct stat st;
    ssize_t got = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= TF_CKPT_MARKER_MAX)
        got = read(fd, text, TF_CKPT_MARKER_MAX);
    close(fd);
    if (got <= 0) return tf_ckpt_fail(why, cap, "completion marker %s is unreadable, empty or not a small regular file", name);
    text[got] = '\0';
    const char *head = "tinyflow checkpoint complete\n", *b = strstr(text, "\nbytes "), *s = strstr(text, "\nstep ");
    char *end;
    if (strncmp(text, head, strlen(head)) != 0 || !b || !s)
        return tf_ckpt_fail(why, cap, "completion marker %s is malformed", name);
    errno = 0;
    uint64_t v = strtoull(b + 7, &end, 10), sv = strtoull(s + 6, NULL, 10);
    if (errno || end == b + 7 || *end != '\n' || sv != step)
        return tf_ckpt_fail(why, cap, "completion marker %s is malformed", name);
    *bytes = v;
    return 0;
}

/* Load the complete checkpoint of `step`: marker present and matching, file loads. */
static int load_complete(int dirfd, const char *dir, uint64_t step, TfCkpt **out, char *err, size_t cap) {
    char name[64], shown[TF_CKPT_PATH_MAX], why[512];
    uint64_t bytes;
    *out = NULL;
    tf_ckpt_file_name(name, sizeof name, step, TF_CKPT_FILE);
    snprintf(shown, sizeof shown, "%s/%s", dir, name);
    if (tf_ckpt_read_marker(dirfd, step, &bytes, why, sizeof why))
        return tf_ckpt_fail(err, cap, "checkpoint '%s': %s", shown, why);
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return tf_ckpt_fail(err, cap, "checkpoint '%s': cannot open: %s", shown, strerror(errno));
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0) rc = tf_ckpt_fail(err, cap, "checkpoint '%s': cannot stat: %s", shown, strerror(errno));
    else if ((uint64_t)st.st_size != bytes)
        rc = tf_ckpt_fail(err, cap, "checkpoint '%s': %" PRIu64 " bytes, but its completion marker says %" PRIu64
                          " (truncated or replaced after the save)", shown, (uint64_t)st.st_size, bytes);
    else rc = tf_ckpt_load_fd(fd, shown, out, err, cap);
    close(fd);
    if (rc == 0 && (*out)->meta.step != step) {
        rc = tf_ckpt_fail(err, cap, "checkpoint '%s': its manifest says step %" PRIu64 ", its name says %" PRIu64, shown,
                          (*out)->meta.step, step);
        tf_ckpt_free(*out);
        *out = NULL;
    }
    return rc;
}

int tf_ckpt_load_step(const char *dir, uint64_t step, TfCkpt **out, char *err, size_t cap) {
    *out = NULL;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return tf_ckpt_fail(err, cap, "cannot open checkpoint directory '%s': %s", dir, strerror(errno));
    int rc = load_complete(dirfd, dir, step, out, err, cap);
    close(dirfd);
    return rc;
}

const char *tf_ckpt_dir_of(const char *dir, char *buf, size_t cap) {
    struct stat st;
    snprintf(buf, cap, "%s/checkpoints", dir);
    if (stat(buf, &st) || !S_ISDIR(st.st_mode)) snprintf(buf, cap, "%s", dir);
    return buf;
}

int tf_ckpt_find_latest(const char *dir, FILE *warn, TfCkpt **out, char *err, size_t cap) {
    *out = NULL;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 && errno == ENOENT) return 0;
    if (dirfd < 0) return tf_ckpt_fail(err, cap, "cannot open checkpoint directory '%s': %s", dir, strerror(errno));
    Entry *e;
    int n, complete = 0, rc = 0;
    char first_err[1024] = "";
    if (scan(dirfd, dir, &e, &n, err, cap)) { close(dirfd); return -1; }
    for (int i = 0; i < n && rc == 0; i++) {
        char name[64];
        tf_ckpt_file_name(name, sizeof name, e[i].step, TF_CKPT_FILE);
        if ((e[i].kinds & COMPLETE) != COMPLETE) {
            if (warn && (e[i].kinds & (1u << TF_CKPT_FILE)))
                fprintf(warn, "warning: ignoring checkpoint '%s/%s': no completion marker (the save did not finish)\n", dir, name);
            continue;
        }
        complete++;
        char why[1024];
        if (load_complete(dirfd, dir, e[i].step, out, why, sizeof why) == 0) {
            rc = 1;
            break;
        }
        if (!first_err[0]) snprintf(first_err, sizeof first_err, "%s", why);
        if (warn) fprintf(warn, "warning: %s; skipping it and trying an older checkpoint\n", why);
    }
    free(e);
    close(dirfd);
    if (rc == 0 && complete)
        return tf_ckpt_fail(err, cap, "none of the %d complete checkpoints in '%s' loads; the newest failed with: %s",
                            complete, dir, first_err);
    return rc;
}

int tf_ckpt_list(const char *dir, uint64_t *steps, int n_cap, char *err, size_t cap) {
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return tf_ckpt_fail(err, cap, "cannot open checkpoint directory '%s': %s", dir, strerror(errno));
    Entry *e;
    int n, k = 0;
    if (scan(dirfd, dir, &e, &n, err, cap)) { close(dirfd); return -1; }
    close(dirfd);
    for (int i = n - 1; i >= 0; i--) /* ascending */
        if ((e[i].kinds & COMPLETE) == COMPLETE) {
            if (k < n_cap && steps) steps[k] = e[i].step;
            k++;
        }
    free(e);
    return k;
}

/* unlinkat one of our names; ENOENT is fine. 1 removed, 0 absent, -1 error. */
static int remove_one(int dirfd, const char *dir, uint64_t step, TfCkptKind kind, const char *why, FILE *log,
                      char *err, size_t cap) {
    char name[64];
    tf_ckpt_file_name(name, sizeof name, step, kind);
    if (unlinkat(dirfd, name, 0) != 0) {
        if (errno == ENOENT) return 0;
        return tf_ckpt_fail(err, cap, "cannot remove '%s/%s': %s", dir, name, strerror(errno));
    }
    if (log) fprintf(log, "ckpt: removed %s/%s (%s)\n", dir, name, why);
    return 1;
}

int tf_ckpt_retain(const char *dir, int keep_last, uint64_t keep_every, FILE *log, char *err, size_t cap) {
    if (keep_last < 1) return tf_ckpt_fail(err, cap, "checkpoint retention: keep_last must be >= 1 (got %d)", keep_last);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return tf_ckpt_fail(err, cap, "cannot open checkpoint directory '%s': %s", dir, strerror(errno));
    Entry *e;
    int n, kept = 0, removed = 0, failed = 0;
    if (scan(dirfd, dir, &e, &n, err, cap)) { close(dirfd); return -1; }
    for (int i = 0; i < n; i++) { /* newest first */
        unsigned k = e[i].kinds;
        int r = 0;
        for (int kind = TF_CKPT_FILE_TMP; kind <= TF_CKPT_DONE_TMP; kind++)
            if (k & (1u << kind)) {
                int a = remove_one(dirfd, dir, e[i].step, (TfCkptKind)kind, "temp file of an unfinished save", log, err, cap);
                r += a < 0;
                removed += a > 0;
            }
        if ((k & COMPLETE) == COMPLETE) {
            int keep = kept < keep_last || (keep_every && e[i].step % keep_every == 0);
            if (kept < keep_last) kept++;
            if (!keep) { /* unmark first: a crash in between leaves an unmarked file, never a false marker */
                int a = remove_one(dirfd, dir, e[i].step, TF_CKPT_DONE, "retention", log, err, cap);
                int b = a < 0 ? -1 : remove_one(dirfd, dir, e[i].step, TF_CKPT_FILE, "retention", log, err, cap);
                r += (a < 0) + (b < 0);
                removed += (a > 0) + (b > 0);
            }
        } else if (k & (1u << TF_CKPT_FILE)) {
            int a = remove_one(dirfd, dir, e[i].step, TF_CKPT_FILE, "no completion marker", log, err, cap);
            r += a < 0;
            removed += a > 0;
        } else if (k & (1u << TF_CKPT_DONE)) {
            int a = remove_one(dirfd, dir, e[i].step, TF_CKPT_DONE, "marker without a checkpoint", log, err, cap);
            r += a < 0;
            removed += a > 0;
        }
        failed += r;
    }
    free(e);
    if (fsync(dirfd) != 0 && !failed) {
        failed = 1;
        tf_ckpt_fail(err, cap, "cannot fsync checkpoint directory '%s': %s", dir, strerror(errno));
    }
    close(dirfd);
    return failed ? -1 : removed;
}
