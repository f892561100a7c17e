/* fault.c - fault injection into checkpoint saves, for the reliability tests.
 *
 * Compiled in only with -DTF_FAULT_INJECTION (CMake option TINYFLOW_FAULT_INJECTION);
 * otherwise tf_ckpt_set_fault() refuses and the hook in ckpt_internal.h is a constant 0.
 * A fault names a point of the save sequence (open, write, fsync, close, rename, dirsync,
 * mark) and either an errno that step then fails with, or "kill": _exit(137) right there,
 * like a coordinator killed mid-save. Spec POINT:ERR[:SKIP[:SAVE]]: it fires once, at the
 * (SKIP+1)-th time the point is reached (counted over every save, or, with SAVE, within the
 * SAVE-th save of this process only, saves counted from 1 by the "open" point that starts
 * each one), then disarms. Source: tf_ckpt_set_fault() or the first "ckpt:<spec>" rule of the
 * comma-separated TINYFLOW_FAULT (other rules belong to src/train/fault.c), read once at the
 * first save. When it fires it says so on stderr with the wall time (the reliability tests
 * measure detection latency from it). Knows nothing about models or the trainer; not
 * thread-safe (saves run on one thread of rank 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/ckpt_internal.h"

#ifdef TF_FAULT_INJECTION
static const char *const g_points[TF_FAULT_POINTS] = {"open", "write", "fsync", "close",
                                                      "rename", "dirsync", "mark"};
static const struct { const char *name; int value; } g_errnos[] = {
    {"ENOSPC", ENOSPC}, {"EIO", EIO},       {"EDQUOT", EDQUOT}, {"EACCES", EACCES}, {"EPERM", EPERM},
    {"EROFS", EROFS},   {"EINTR", EINTR},   {"EEXIST", EEXIST}, {"ENOENT", ENOENT}, {"EFBIG", EFBIG},
    {"EBADF", EBADF},   {"ENOMEM", ENOMEM}, {"EAGAIN", EAGAIN}};

#define TF_FAULT_KILL (-1)

static struct {
    int armed, point, err; /* err > 0: errno; TF_FAULT_KILL: _exit(137) */
    long skip, save;       /* save: 0 any, else only within that save (1-based) */
} g_fault;
static int g_env_read = 0;
static long g_saves = 0; /* saves started so far (times "open" was reached) */

static int parse_spec(const char *spec) {
    char buf[128];
    if (strlen(spec) >= sizeof buf) return -1;
    strcpy(buf, spec);
    char *point = buf, *e = strchr(buf, ':');
    if (!e) return -1;
    *e++ = '\0';
    char *skip = strchr(e, ':'), *save = NULL;
    if (skip) *skip++ = '\0';
    if (skip && (save = strchr(skip, ':'))) *save++ = '\0';
    int p = -1;
    for (int k = 0; k < TF_FAULT_POINTS; k++)
        if (strcmp(point, g_points[k]) == 0) p = k;
    if (p < 0) return -1;
    int err = 0;
    if (strcmp(e, "kill") == 0) err = TF_FAULT_KILL;
    for (size_t k = 0; k < sizeof g_errnos / sizeof g_errnos[0]; k++)
        if (strcmp(e, g_errnos[k].name) == 0) err = g_errnos[k].value;
    if (!err) {
        char *end;
        long v = strtol(e, &end, 10);
        if (end == e || *end || v <= 0 || v > 4095) return -1;
        err = (int)v;
    }
    long s = 0;
    if (skip) {
        char *end;
        s = strtol(skip, &end, 10);
        if (end == skip || *end || s < 0) return -1;
    }
    long sv = 0;
    if (save) {
        char *end;
        sv = strtol(save, &end, 10);
        if (end == save || *end || sv < 1) return -1;
    }
    g_fault.point = p;
    g_fault.save = sv;
    g_fault.err = err;
    g_fault.skip = s;
    g_fault.armed = 1;
    return 0;
}

int tf_ckpt_set_fault(const char *spec) {
    g_env_read = 1; /* an explicit setting wins over the environment */
    g_fault.armed = 0;
    g_saves = 0;
    if (!spec || !spec[0]) return 0;
    return parse_spec(spec);
}

int tf_ckpt_fault_compiled(void) { return 1; }

int tf_ckpt_fault(TfCkptFaultPoint p) {
    if (!g_env_read) {
        g_env_read = 1;
        const char *env = getenv("TINYFLOW_FAULT");
        const char *rule = env;
        while (rule && strncmp(rule, "ckpt:", 5) != 0) { /* the first ckpt: rule of the list */
            rule = strchr(rule, ',');
            if (rule) rule++;
        }
        char spec[128] = "";
        if (rule) snprintf(spec, sizeof spec, "%.*s", (int)strcspn(rule + 5, ","), rule + 5);
        if (rule && parse_spec(spec) != 0) {
            static const char msg[] =
                "tinyflow: ignoring malformed TINYFLOW_FAULT (want ckpt:<point>:<errno|kill>[:<skip>[:<save>]])\n";
            if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
        }
    }
    if (p == TF_FAULT_OPEN) g_saves++;
    if (!g_fault.armed || g_fault.point != (int)p) return 0;
    if (g_fault.save > 0 && g_saves != g_fault.save) return 0;
    if (g_fault.skip > 0) {
        g_fault.skip--;
        return 0;
    }
    g_fault.armed = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[160];
    int n = snprintf(line, sizeof line, "[ckpt] fault injected: %s at the %s of save %ld (t=%.3f)\n",
                     g_fault.err == TF_FAULT_KILL ? "kill" : "error", g_points[p], g_saves,
                     (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
    if (n > 0 && write(2, line, (size_t)n) < 0) { /* nothing more to do */ }
    if (g_fault.err == TF_FAULT_KILL) _exit(137);
    return g_fault.err;
}

#else /* fault injection compiled out */

int tf_ckpt_set_fault(const char *spec) { return spec && spec[0] ? -1 : 0; }
int tf_ckpt_fault_compiled(void) { return 0; }

#endif
