/* track_test_util.h - helpers shared by the track/ unit tests: a fresh temp directory, a
 * recursive remove, whole-file reads, and "this call must end the program with exit code X
 * and say Y" checks run in a fork with stderr captured.
 * Knows nothing about the tracker's formats; header-only (static functions). */
#ifndef TF_TRACK_TEST_UTIL_H
#define TF_TRACK_TEST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* mkdtemp("/tmp/tf_track_<name>_XXXXXX") into out. */
static inline void tt_tempdir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "/tmp/tf_track_%s_XXXXXX", name);
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void tt_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[4608];
                if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) continue;
                tt_rmtree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Whole file, NUL-terminated (malloc'd), length in *len; NULL when unreadable. */
static inline char *tt_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static inline int tt_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Number of directory entries whose name contains needle (NULL: all but . and ..). */
static inline int tt_count_entries(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!needle || strstr(e->d_name, needle)) n++;
    }
    closedir(d);
    return n;
}

/* Run fn(arg) in a child with stderr captured. Returns 1 when the child exited with
 * want_code and its stderr contains want_text (NULL: anything); prints why otherwise. */
static inline int tt_dies(void (*fn)(void *), void *arg, int want_code, const char *want_text) {
    char errpath[] = "/tmp/tf_track_stderr_XXXXXX";
    int fd = mkstemp(errpath);
    if (fd < 0) return 0;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        fn(arg);
        _exit(0);
    }
    close(fd);
    int st = 0;
    waitpid(pid, &st, 0);
    char *text = tt_slurp(errpath, NULL);
    unlink(errpath);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    int ok = code == want_code && (!want_text || (text && strstr(text, want_text)));
    if (!ok)
        fprintf(stderr, "  death test: exit %d (wanted %d), stderr: %s\n", code, want_code, text ? text : "(none)");
    free(text);
    return ok;
}

#endif
