/* path_safety.c - reliability test (paths): no writer of src/ follows a symlink planted at the
 * predictable name it creates. For each writer a symlink to a canary file outside the output
 * directory is planted at its temp (or output) name, the writer runs, and the canary must be
 * unchanged; writers that replace a file atomically must still produce the right file (the
 * planted link is removed, never followed), writers that cannot (appends, the MLflow lock, a
 * TensorBoard event file) must refuse. Refusals end the process (tf_die), so those writers run
 * in a forked child. Covered: tf_track_write_atomic (meta.yaml, report.html, PNG grids, the
 * trainer's STOPPED marker), tf_track_create_exclusive (MLflow params), tf_track_copy_file
 * (artifacts), tf_track_append (metrics.jsonl, MLflow metrics), the MLflow lock, tf_events_open,
 * tf_npy_write (`tinyflow sample`/`fid` .npy), tf_stats_save (the FID statistics cache) and
 * tf_data_copy_file (`tinyflow data fetch`). Checkpoint temp names: tests/unit/test_ckpt_dir.c;
 * the config writer: tests/fuzz_regressions/path_safety.c. Exit 0 on success, 1 on failure. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data/fetch.h"
#include "eval/npy.h"
#include "eval/stats.h"
#include "track/mlflow.h"
#include "track/tfevents.h"
#include "track/util.h"

static char g_root[64], g_out[128], g_canary[128];
static int g_fail = 0, g_cases = 0;

static void check(int ok, const char *what, const char *detail) {
    g_cases++;
    if (!ok) g_fail = 1;
    printf("%s: %s%s%s\n", ok ? "ok" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) { perror(path); exit(1); }
}

static int read_is(const char *path, const char *want) {
    char buf[256] = "";
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strcmp(buf, want) == 0;
}

static int canary_intact(void) { return read_is(g_canary, "canary\n"); }

static int is_link(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* plant a symlink at path -> the canary */
static void plant(const char *path) {
    unlink(path);
    if (symlink(g_canary, path)) { perror(path); exit(1); }
}

/* Run fn(arg) in a child; returns its exit status (0 when fn returned), or 128+signal. */
static int in_child(void (*fn)(const void *), const void *arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* An atomic writer: link at its temp name, run it, the target has the text, canary untouched. */
static void atomic_case(const char *what, const char *target, const char *tmp, int (*write)(const char *, const char *),
                        const char *want) {
    put(g_canary, "canary\n");
    plant(tmp);
    int rc = write(target, want);
    check(rc == 0 && canary_intact(), what, "the canary behind the temp name is unchanged");
    check(want == NULL || read_is(target, want), what, "the file itself was written");
    check(!is_link(tmp) && access(tmp, F_OK) != 0, what, "no temp file or link left");
    unlink(target);
}

static int w_atomic(const char *p, const char *t) { tf_track_write_atomic(p, t, strlen(t)); return 0; }
static int w_exclusive(const char *p, const char *t) { return tf_track_create_exclusive(p, t, strlen(t)) == 1 ? 0 : -1; }
static int w_copy(const char *p, const char *t) {
    char src[256];
    snprintf(src, sizeof src, "%s/src.txt", g_root);
    put(src, t);
    tf_track_copy_file(src, p);
    return 0;
}
static int w_fetch_copy(const char *p, const char *t) {
    char src[256];
    snprintf(src, sizeof src, "%s/src.txt", g_root);
    put(src, t);
    tf_data_copy_file(src, p);
    return 0;
}
static int w_npy(const char *p, const char *t) {
    (void)t;
    float x[3] = {1, 2, 3};
    int64_t shape[1] = {3};
    char err[512];
    return tf_npy_write(p, "<f4", 1, shape, x, err, sizeof err);
}
static int w_stats(const char *p, const char *t) {
    (void)t;
    TfStats s;
    tf_stats_init(&s, 2);
    float x[4] = {1, 2, 3, 4};
    tf_stats_add(&s, x, 2);
    char err[512];
    int rc = tf_stats_save(p, &s, "test", NULL, 0, err, sizeof err);
    tf_stats_free(&s);
    return rc;
}

static void c_append(const void *path) { tf_track_append(path, "x\n", 2); }
static void c_events(const void *dir) {
    char host[256], p[512];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    long long t = (long long)time(NULL);
    for (long long k = t; k <= t + 2; k++) { /* both names tf_events_open may pick, this second or the next */
        snprintf(p, sizeof p, "%s/events.out.tfevents.%010lld.%s", (const char *)dir, k, host);
        plant(p);
        snprintf(p, sizeof p, "%s/events.out.tfevents.%010lld.%s.%ld", (const char *)dir, k, host, (long)getpid());
        plant(p);
    }
    tf_events_close(tf_events_open(dir, 0));
}
static void c_mlflow(const void *root) {
    TfMlflowOptions o = {root, "exp", "run", "user", NULL, NULL};
    tf_mlflow_close(tf_mlflow_open(&o), TF_RUN_FINISHED);
}

/* A refusing writer: link at its name (or names), run it in a child, the canary unchanged. */
static void refuse_case(const char *what, void (*fn)(const void *), const void *arg, const char *link) {
    put(g_canary, "canary\n");
    if (link) plant(link);
    int rc = in_child(fn, arg);
    char d[128];
    snprintf(d, sizeof d, "the writer %s (exit %d), the canary is unchanged", rc ? "refused" : "wrote elsewhere", rc);
    check(canary_intact(), what, d);
}

int main(void) {
    snprintf(g_root, sizeof g_root, "/tmp/tf_rel_paths_XXXXXX");
    if (!mkdtemp(g_root)) { perror("mkdtemp"); return 1; }
    snprintf(g_out, sizeof g_out, "%s/run", g_root);
    snprintf(g_canary, sizeof g_canary, "%s/canary", g_root);
    tf_track_mkdirs(g_out);
    char t[256], tmp[300];
    long pid = (long)getpid();

    snprintf(t, sizeof t, "%s/meta.yaml", g_out);
    snprintf(tmp, sizeof tmp, "%s/.meta.yaml.tmp.%ld", g_out, pid);
    atomic_case("tf_track_write_atomic", t, tmp, w_atomic, "a: 1\n");
    snprintf(t, sizeof t, "%s/STOPPED", g_out);
    snprintf(tmp, sizeof tmp, "%s/.STOPPED.tmp.%ld", g_out, pid);
    atomic_case("STOPPED marker (tf_track_write_atomic)", t, tmp, w_atomic, "signal SIGTERM\n");
    snprintf(t, sizeof t, "%s/param", g_out);
    snprintf(tmp, sizeof tmp, "%s/.param.tmp.%ld", g_out, pid);
    atomic_case("tf_track_create_exclusive", t, tmp, w_exclusive, "0.001");
    snprintf(t, sizeof t, "%s/artifact.txt", g_out);
    snprintf(tmp, sizeof tmp, "%s/.artifact.txt.tmp.%ld", g_out, pid);
    atomic_case("tf_track_copy_file", t, tmp, w_copy, "artifact\n");
    snprintf(t, sizeof t, "%s/samples.npy", g_out);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", t, pid);
    atomic_case("tf_npy_write", t, tmp, w_npy, NULL);
    snprintf(t, sizeof t, "%s/stats.tfstats", g_out);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", t, pid);
    atomic_case("tf_stats_save", t, tmp, w_stats, NULL);
    snprintf(t, sizeof t, "%s/train-labels-idx1-ubyte", g_out);
    snprintf(tmp, sizeof tmp, "%s.tmp", t);
    atomic_case("tf_data_copy_file (data fetch)", t, tmp, w_fetch_copy, "idx\n");

    snprintf(t, sizeof t, "%s/metrics.jsonl", g_out);
    refuse_case("tf_track_append (metrics.jsonl)", c_append, t, t);
    check(is_link(t), "tf_track_append", "the planted link is still a link (not replaced by a file)");
    unlink(t);
    snprintf(t, sizeof t, "%s/tb", g_out);
    tf_track_mkdirs(t);
    unlink(g_canary); /* dangling links: a writer that follows one would create the canary */
    int rc = in_child(c_events, t);
    check(access(g_canary, F_OK) != 0, "tf_events_open", rc ? "refused; nothing created through the links"
                                                             : "wrote elsewhere; nothing created through the links");
    snprintf(t, sizeof t, "%s/mlruns", g_out);
    tf_track_mkdirs(t);
    snprintf(tmp, sizeof tmp, "%s/.tinyflow.lock", t);
    refuse_case("MLflow lock file", c_mlflow, t, tmp);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
    printf("path_safety: %d checks, %s\n", g_cases, g_fail ? "FAILED" : "all passed");
    return g_fail;
}
