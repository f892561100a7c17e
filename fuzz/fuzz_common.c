/* fuzz_common.c - shared helpers of the fuzz targets (fuzz_common.h): the tf_die() trap,
 * input files on memfds (or per-process temp files where memfd_create is missing), and
 * NUL-terminated copies of inputs. Knows nothing about the parsers. */
#define _GNU_SOURCE 1 /* memfd_create */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/check.h"

#ifndef TF_FUZZ_CONFIG_DIR
#define TF_FUZZ_CONFIG_DIR "configs"
#endif

static void die_trap(int exit_code) {
    fprintf(stderr, "tf_fuzz: tf_die() (exit code %d) was reached from an error-return API: "
                    "a parser ends the process on bad input instead of returning -1\n", exit_code);
    abort();
}

void tf_fuzz_init(void) {
    static int done;
    if (done) return;
    done = 1;
    tf_set_abort_hook(die_trap);
}

#define SLOTS 4
static int g_fd[SLOTS] = {-1, -1, -1, -1};
static char g_path[SLOTS][64];
static char g_tmp[SLOTS][4096]; /* temp-file fallback: removed at exit */

static void remove_temps(void) {
    for (int s = 0; s < SLOTS; s++)
        if (g_tmp[s][0]) unlink(g_tmp[s]);
}

static void open_slot(int s) {
#ifdef MFD_CLOEXEC
    g_fd[s] = memfd_create("tf_fuzz_input", MFD_CLOEXEC);
#endif
    if (g_fd[s] < 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(g_tmp[s], sizeof g_tmp[s], "%s/tf_fuzz_%ld_%d_XXXXXX", dir && *dir ? dir : "/tmp", (long)getpid(), s);
        g_fd[s] = mkstemp(g_tmp[s]);
        if (g_fd[s] < 0) {
            fprintf(stderr, "tf_fuzz: cannot create an input file: %s\n", strerror(errno));
            abort();
        }
        static int registered;
        if (!registered) registered = !atexit(remove_temps);
    }
    if (!g_tmp[s][0]) snprintf(g_path[s], sizeof g_path[s], "/proc/self/fd/%d", g_fd[s]);
}

const char *tf_fuzz_file(int slot, const uint8_t *data, size_t size) {
    if (slot < 0 || slot >= SLOTS) abort();
    if (g_fd[slot] < 0) open_slot(slot);
    int fd = g_fd[slot];
    if (ftruncate(fd, 0) != 0) abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) abort();
        off += (size_t)w;
    }
    return g_tmp[slot][0] ? g_tmp[slot] : g_path[slot];
}

char *tf_fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const char *tf_fuzz_config_dir(void) {
    const char *d = getenv("TINYFLOW_CONFIG_DIR");
    return d && *d ? d : TF_FUZZ_CONFIG_DIR;
}
