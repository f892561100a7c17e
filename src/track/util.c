/* util.c - files, time, random bytes and growable strings for the tracking sinks (util.h).
 * Writes that readers may observe mid-way (meta.yaml, report.html, PNGs) go through a temp
 * file in the same directory, fsync and rename, so a reader sees the old or the new file,
 * never half of one. No file is ever opened for writing through a symlink: temp files are
 * created O_CREAT|O_EXCL|O_NOFOLLOW (a link or stale file planted at the predictable temp
 * name is removed - the entry, never its target - and the create retried once), appends use
 * O_NOFOLLOW (a link at the name is refused). tests/reliability/path_safety.c checks it.
 * This file must not know about models, MPI, training or formats. */
#include "track/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TF_TRACK_PATH_MAX 4096

void tf_track_path(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap)
        tf_die_usage("use a shorter run directory or key", "path too long (limit %zu bytes): %.200s...",
                     cap, out);
}

int tf_track_exists(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) return 1;
    if (errno == ENOENT) return 0;
    tf_die_hint("check the path and its permissions", "cannot stat '%s': %s", path, strerror(errno));
}

int tf_track_is_dir(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) return S_ISDIR(st.st_mode) ? 1 : 0;
    if (errno == ENOENT || errno == ENOTDIR) return 0;
    tf_die_hint("check the path and its permissions", "cannot stat '%s': %s", path, strerror(errno));
}

void tf_track_mkdirs(const char *path) {
    char buf[TF_TRACK_PATH_MAX];
    tf_track_path(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            tf_die_hint("check that the parent directory exists and is writable",
                        "cannot create directory '%s': %s", buf, strerror(errno));
        if (!tf_track_is_dir(buf))
            tf_die_hint("remove or rename the file that is in the way",
                        "'%s' exists and is not a directory", buf);
        buf[i] = saved;
    }
}

/* "<dir>/.<name>.tmp.<pid>" next to path. */
static void temp_path_for(char *out, size_t cap, const char *path) {
    const char *base = tf_track_basename(path);
    int dirlen = (int)(base - path);
    tf_track_path(out, cap, "%.*s.%s.tmp.%ld", dirlen, path, base, (long)getpid());
}

static void write_all(int fd, const void *data, size_t n, const char *path) {
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            tf_die_hint("check free disk space and permissions", "cannot write '%s': %s", path,
                        w < 0 ? strerror(errno) : "wrote 0 bytes");
        p += w;
        n -= (size_t)w;
    }
}

/* fsync the directory holding path, so a rename survives a crash. EINVAL/EROFS are
 * tolerated (some file systems cannot sync directories). */
static void fsync_parent(const char *path) {
    char dir[TF_TRACK_PATH_MAX];
    const char *base = tf_track_basename(path);
    if (base == path) tf_track_path(dir, sizeof dir, ".");
    else tf_track_path(dir, sizeof dir, "%.*s", (int)(base - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        tf_die_hint("check the directory permissions", "cannot open directory '%s': %s", dir,
                    strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        tf_die_hint("check the file system", "cannot fsync directory '%s': %s", dir, strerror(errno));
    close(fd);
}

int tf_track_open_new(const char *path, int replace) {
    for (int attempt = 0;; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) return fd;
        if (errno != EEXIST || !replace || attempt)
            tf_die_hint("check that the directory exists and is writable, and that nothing else (a symlink?) "
                        "is at that name",
                        "cannot create '%s': %s", path, strerror(errno));
        struct stat st;
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
            tf_die_hint("remove what is at that name", "cannot create '%s': a directory or device is there", path);
        if (unlink(path) != 0 && errno != ENOENT)
            tf_die_hint("check the directory permissions", "cannot remove the stale '%s': %s", path, strerror(errno));
    }
}

/* Write data into a fresh temp file next to path, fsync'd and closed; its name into tmp. */
static void write_temp(char *tmp, size_t cap, const char *path, const void *data, size_t n) {
    temp_path_for(tmp, cap, path);
    int fd = tf_track_open_new(tmp, 1);
    write_all(fd, data, n, tmp);
    if (fsync(fd) != 0)
        tf_die_hint("check free disk space", "cannot fsync '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0)
        tf_die_hint("check free disk space", "cannot close '%s': %s", tmp, strerror(errno));
}

void tf_track_write_atomic(const char *path, const void *data, size_t n) {
    char tmp[TF_TRACK_PATH_MAX];
    write_temp(tmp, sizeof tmp, path, data, n);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        tf_die_hint("check the directory permissions", "cannot rename '%s' to '%s': %s", tmp, path,
                    strerror(e));
    }
    fsync_parent(path);
}

int tf_track_create_exclusive(const char *path, const void *data, size_t n) {
    if (tf_track_exists(path)) return 0;
    char tmp[TF_TRACK_PATH_MAX];
    write_temp(tmp, sizeof tmp, path, data, n);
    int created = 1;
    if (link(tmp, path) != 0) {
        int e = errno;
        if (e == EEXIST) created = 0;
        else if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EXDEV || e == EMLINK) {
            /* No hard links here: re-check, then rename (not race-free, still atomic). */
            if (tf_track_exists(path)) created = 0;
            else if (rename(tmp, path) != 0) {
                e = errno;
                unlink(tmp);
                tf_die_hint("check the directory permissions", "cannot rename '%s' to '%s': %s", tmp,
                            path, strerror(e));
            } else {
                fsync_parent(path);
                return 1;
            }
        } else {
            unlink(tmp);
            tf_die_hint("check the directory permissions", "cannot create '%s': %s", path, strerror(e));
        }
    }
    if (unlink(tmp) != 0)
        tf_die_hint("check the directory permissions", "cannot remove '%s': %s", tmp, strerror(errno));
    if (created) fsync_parent(path);
    return created;
}

char *tf_track_read_file(const char *path, size_t cap, size_t *len, char *err, size_t errcap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t n = 0, bufcap = 4096;
    char *buf = tf_malloc(bufcap + 1);
    for (;;) {
        if (n == bufcap) {
            if (bufcap >= cap + 1) break;
            bufcap = bufcap * 2 > cap + 1 ? cap + 1 : bufcap * 2;
            char *nb = realloc(buf, bufcap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errcap, "%s: out of memory reading it", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, bufcap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errcap, "%s: read error: %s", path, strerror(e));
        return NULL;
    }
    if (n > cap) {
        free(buf);
        snprintf(err, errcap, "%s: larger than the %zu-byte limit", path, cap);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

void tf_track_copy_file(const char *src, const char *dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        tf_die_hint("check that the file exists and is readable", "cannot open '%s' to copy it: %s", src,
                    strerror(errno));
    char tmp[TF_TRACK_PATH_MAX];
    temp_path_for(tmp, sizeof tmp, dst);
    int out = tf_track_open_new(tmp, 1);
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = tf_malloc(CHUNK);
    for (;;) {
        ssize_t r = read(in, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) tf_die_hint("check the file", "cannot read '%s': %s", src, strerror(errno));
        if (r == 0) break;
        write_all(out, buf, (size_t)r, tmp);
    }
    free(buf);
    close(in);
    if (fsync(out) != 0) tf_die_hint("check free disk space", "cannot fsync '%s': %s", tmp, strerror(errno));
    if (close(out) != 0) tf_die_hint("check free disk space", "cannot close '%s': %s", tmp, strerror(errno));
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        tf_die_hint("check the directory permissions", "cannot rename '%s' to '%s': %s", tmp, dst,
                    strerror(e));
    }
    fsync_parent(dst);
}

void tf_track_append(const char *path, const void *data, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        tf_die_hint("check that the directory exists and is writable (a symlink at that name is refused)",
                    "cannot open '%s' for appending: %s", path, strerror(errno));
    write_all(fd, data, n, path);
    if (close(fd) != 0)
        tf_die_hint("check free disk space", "cannot close '%s': %s", path, strerror(errno));
}

int64_t tf_track_now_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) tf_die("clock_gettime failed: %s", strerror(errno));
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double tf_track_now_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) tf_die("clock_gettime failed: %s", strerror(errno));
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tf_track_random_bytes(unsigned char *out, size_t n) {
    FILE *f = tf_fopen("/dev/urandom", "rb");
    tf_fread(out, 1, n, f, "/dev/urandom");
    fclose(f);
}

const char *tf_track_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* --- growable strings ----------------------------------------------------------------- */

static void sb_reserve(TfStrBuf *b, size_t extra) {
    if (extra > ((size_t)-1) / 2 - b->len) tf_die("string buffer size overflow");
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) tf_die_hint("free memory", "out of memory growing a %zu-byte string", cap);
    b->s = s;
    b->cap = cap;
}

void tf_sb_append(TfStrBuf *b, const char *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tf_sb_puts(TfStrBuf *b, const char *s) { tf_sb_append(b, s, strlen(s)); }

void tf_sb_printf(TfStrBuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) tf_die("vsnprintf failed for format '%s'", fmt);
    if ((size_t)k < sizeof small) {
        tf_sb_append(b, small, (size_t)k);
        return;
    }
    sb_reserve(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
}

void tf_sb_free(TfStrBuf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void tf_sb_json_string(TfStrBuf *b, const char *s) {
    tf_sb_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': tf_sb_append(b, "\\\"", 2); break;
        case '\\': tf_sb_append(b, "\\\\", 2); break;
        case '\n': tf_sb_append(b, "\\n", 2); break;
        case '\r': tf_sb_append(b, "\\r", 2); break;
        case '\t': tf_sb_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20) tf_sb_printf(b, "\\u%04x", *p);
            else tf_sb_append(b, (const char *)p, 1);
        }
    }
    tf_sb_append(b, "\"", 1);
}

void tf_sb_html(TfStrBuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': tf_sb_puts(b, "&amp;"); break;
        case '<': tf_sb_puts(b, "&lt;"); break;
        case '>': tf_sb_puts(b, "&gt;"); break;
        case '"': tf_sb_puts(b, "&quot;"); break;
        case '\'': tf_sb_puts(b, "&#39;"); break;
        default: tf_sb_append(b, s, 1);
        }
    }
}

void tf_sb_base64(TfStrBuf *b, const unsigned char *data, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sb_reserve(b, (n + 2) / 3 * 4);
    char *o = b->s + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->s);
    b->s[b->len] = '\0';
}
