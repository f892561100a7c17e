/* fault.c - fault injection into checkpoint saves, for the reliability tests.
 *
 * Compiled in only with -DTF_FAULT_INJECTION (CMake option TINYFLOW_FAULT_INJECTION);
 * otherwise tf_ckpt_set_fault() refuses and the hook in ckpt_internal.h is a constant 0.
 * A fault names a point of the save sequence (open, write, fsync, close, rename, dirsync,
 * mark) and either an errno that step then fails with, or "kill": _exit(137) right there,
 * like a coordinator killed mid-save. It fires once, at the (skip+1)-th time the point is
 * reached, then disarms. Source: tf_ckpt_set_fault() or TINYFLOW_FAULT=ckpt:<spec>, read
 * once at the first save. Knows nothing about models or the trainer; not thread-safe
 * (saves run on one thread of rank 0).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
    long skip;
} g_fault;
static int g_env_read = 0;

static int parse_spec(const char *spec) {
    char buf[128];
    if (strlen(spec) >= sizeof buf) return -1;
    strcpy(buf, spec);
    char *point = buf, *e = strchr(buf, ':');
    if (!e) return -1;
    *e++ = '\0';
    char *skip = strchr(e, ':');
    if (skip) *skip++ = '\0';
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
    g_fault.point = p;
    g_fault.err = err;
    g_fault.skip = s;
    g_fault.armed = 1;
    return 0;
}

int tf_ckpt_set_fault(const char *spec) {
    g_env_read = 1; /* an explicit setting wins over the environment */
    g_fault.armed = 0;
    if (!spec || !spec[0]) return 0;
    return parse_spec(spec);
}

int tf_ckpt_fault_compiled(void) { return 1; }

int tf_ckpt_fault(TfCkptFaultPoint p) {
    if (!g_env_read) {
        g_env_read = 1;
        const char *env = getenv("TINYFLOW_FAULT");
        if (env && strncmp(env, "ckpt:", 5) == 0 && parse_spec(env + 5) != 0) {
            static const char msg[] = "tinyflow: ignoring malformed TINYFLOW_FAULT (want ckpt:<point>:<errno|kill>[:<skip>])\n";
            if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
        }
    }
    if (!g_fault.armed || g_fault.point != (int)p) return 0;
    if (g_fault.skip > 0) {
        g_fault.skip--;
        return 0;
    }
    g_fault.armed = 0;
    if (g_fault.err == TF_FAULT_KILL) _exit(137);
    return g_fault.err;
}

#else /* fault injection compiled out */

int tf_ckpt_set_fault(const char *spec) { return spec && spec[0] ? -1 : 0; }
int tf_ckpt_fault_compiled(void) { return 0; }

#endif
