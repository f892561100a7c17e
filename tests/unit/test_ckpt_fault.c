/* test_ckpt_fault.c - a save that fails at any point (open, write, fsync, close, rename,
 * dirsync, mark; EIO/ENOSPC, or the process killed right there) leaves the earlier
 * checkpoint byte-identical, reports nothing partial as complete, and leaves nothing that
 * retention does not clear. Needs fault injection compiled in (-DTF_FAULT_INJECTION, CMake
 * option TINYFLOW_FAULT_INJECTION); skips (77) otherwise. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "tf_child.h"
#include "tf_test.h"

static char g_dir[] = "/tmp/tf_ckpt_fault_XXXXXX";
static float g_data[3000];


/* Names in the directory joined by spaces, sorted by readdir order (we only count/search). */
static int files(char *out, size_t cap) {
    DIR *d = opendir(g_dir);
    int n = 0;
    size_t o = 0;
    out[0] = '\0';
    if (!d) return -1;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            n++;
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s ", de->d_name);
        }
    closedir(d);
    return n;
}

static int save_step(uint64_t step, char *err, size_t cap) {
    for (int i = 0; i < 3000; i++) g_data[i] = (float)step + (float)i * 1e-3f;
    TfCkptTensor t[3] = {{"param/a", 2, {10, 100}, 1000, g_data, 0},
                         {"adam_m/a", 2, {10, 100}, 1000, g_data + 1000, 0},
                         {"adam_v/a", 2, {10, 100}, 1000, g_data + 2000, 0}};
    TfCkptMeta m = {.arch = "mlp", .config_text = "model:\n  name: mlp\n", .step = step, .world_size = 1};
    return tf_ckpt_save(g_dir, &m, t, 3, NULL, 0, err, cap);
}

static long read_all(const char *name, char *buf, long cap) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    long n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static long long latest(void) {
    TfCkpt *ck = NULL;
    char err[1024];
    int rc = tf_ckpt_find_latest(g_dir, NULL, &ck, err, sizeof err);
    long long s = rc == 1 ? (long long)ck->meta.step : rc == 0 ? -1 : -2;
    tf_ckpt_free(ck);
    return s;
}

static char g_ckpt10[20000], g_done10[1024];
static long g_nckpt10, g_ndone10;

/* A fresh directory holding only a good step 10; remembers its bytes. */
static void fresh(void) {
    char err[1024];
    tf_clear_dir(g_dir);
    CHECK_MSG(save_step(10, err, sizeof err) == 0, "%s", err);
    g_nckpt10 = read_all("step_00000010.ckpt", g_ckpt10, sizeof g_ckpt10);
    g_ndone10 = read_all("step_00000010.done", g_done10, sizeof g_done10);
}

/* Step 10 untouched, nothing of step 20 complete, and `latest` still 10. */
static void check_intact(const char *what) {
    static char a[20000], b[1024];
    uint64_t steps[4];
    char err[1024];
    CHECK_MSG(read_all("step_00000010.ckpt", a, sizeof a) == g_nckpt10 && memcmp(a, g_ckpt10, (size_t)g_nckpt10) == 0,
              "%s: step 10 changed", what);
    CHECK_MSG(read_all("step_00000010.done", b, sizeof b) == g_ndone10 && memcmp(b, g_done10, (size_t)g_ndone10) == 0,
              "%s: marker 10 changed", what);
    int n = tf_ckpt_list(g_dir, steps, 4, err, sizeof err);
    CHECK_MSG(n == 1 && steps[0] == 10, "%s: %d complete checkpoints", what, n);
    CHECK_MSG(latest() == 10, "%s: latest is %lld", what, latest());
}

int main(void) {
    if (!tf_ckpt_fault_compiled()) {
        printf("test_ckpt_fault: skipped (build with -DTINYFLOW_FAULT_INJECTION=ON)\n");
        return TF_TEST_SKIP;
    }
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    char err[2048], names[4096];

    /* The environment variable, read once at the first save (in a child: fresh state). */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("TINYFLOW_FAULT", "ckpt:rename:ENOSPC", 1);
        int rc = save_step(10, err, sizeof err);
        int ok = rc == -1 && strstr(err, "rename") && strstr(err, strerror(ENOSPC));
        ok &= save_step(10, err, sizeof err) == 0; /* fired once, then disarmed */
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(files(names, sizeof names) == 2);

    CHECK(tf_ckpt_set_fault("nowhere:EIO") == -1 && tf_ckpt_set_fault("write:EWHAT") == -1 &&
          tf_ckpt_set_fault("write") == -1 && tf_ckpt_set_fault("write:EIO:x") == -1);

    const char *points[7] = {"open", "write", "fsync", "close", "rename", "dirsync", "mark"};
    const int errs[2] = {EIO, ENOSPC};
    const char *errnames[2] = {"EIO", "ENOSPC"};
    for (int p = 0; p < 7; p++)
        for (int e = 0; e < 2; e++) {
            char spec[64], what[96];
            snprintf(spec, sizeof spec, "%s:%s", points[p], errnames[e]);
            snprintf(what, sizeof what, "fault %s", spec);
            fresh();
            CHECK(tf_ckpt_set_fault(spec) == 0);
            CHECK_MSG(save_step(20, err, sizeof err) == -1 && strstr(err, strerror(errs[e])) && strstr(err, "step_00000020.ckpt"),
                      "%s: %s", what, err);
            check_intact(what);
            CHECK_MSG(files(names, sizeof names) == 2, "%s left: %s", what, names); /* its own files removed */
            CHECK_MSG(save_step(20, err, sizeof err) == 0 && latest() == 20, "%s: save after: %s", what, err);
        }
    /* A write failure in the middle of the tensors (the 4th write call). */
    fresh();
    CHECK(tf_ckpt_set_fault("write:ENOSPC:3") == 0);
    CHECK(save_step(20, err, sizeof err) == -1 && strstr(err, "writing tensor data"));
    check_intact("write:ENOSPC:3");
    CHECK(files(names, sizeof names) == 2);

    /* Re-saving an existing step that then fails: that step stops being complete (never a
     * marker vouching for the wrong file), earlier steps intact. */
    fresh();
    CHECK(save_step(20, err, sizeof err) == 0);
    CHECK(tf_ckpt_set_fault("rename:EIO") == 0);
    CHECK(save_step(20, err, sizeof err) == -1);
    check_intact("re-save rename:EIO");
    tf_ckpt_set_fault(NULL);

    /* Killed at each point: exit 137; step 10 intact and latest; leftovers are cleared. */
    for (int p = 0; p < 7; p++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s:kill", points[p]);
        fresh();
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
            if (tf_ckpt_set_fault(spec) != 0) _exit(2);
            save_step(20, err, sizeof err);
            _exit(0); /* not reached when the fault fires */
        }
        waitpid(pid, &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 137, "%s: status 0x%x", spec, st);
        check_intact(spec);
        int removed = tf_ckpt_retain(g_dir, 2, 0, NULL, err, sizeof err);
        CHECK_MSG(removed == (p == 0 ? 0 : 1), "%s: retention removed %d", spec, removed);
        CHECK_MSG(files(names, sizeof names) == 2, "%s: left %s", spec, names);
    }
    tf_ckpt_set_fault(NULL);
    tf_clear_dir(g_dir);
    rmdir(g_dir);
    return tf_test_finish("test_ckpt_fault");
}
