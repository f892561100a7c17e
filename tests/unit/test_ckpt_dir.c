/* test_ckpt_dir.c - checkpoint directories: find_latest picks the newest complete checkpoint
 * that validates and falls back (with a warning naming the file and reason) past corrupt,
 * truncated, foreign, symlinked or unmarked ones; load_step refuses unmarked steps;
 * retention keeps exactly the last K plus every M-th and clears leftovers; a symlink or
 * stale file planted at a temp name is never followed (the target stays untouched). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "tf_child.h"
#include "tf_test.h"

static char g_dir[] = "/tmp/tf_ckpt_dir_XXXXXX";
static float g_data[64];


static int save_step(uint64_t step) {
    for (int i = 0; i < 64; i++) g_data[i] = (float)(step * 100 + (uint64_t)i);
    TfCkptTensor t[2] = {{"param/w", 2, {8, 4}, 32, g_data, 0}, {"ema/w", 2, {8, 4}, 32, g_data + 32, 0}};
    TfCkptMeta m = {.arch = "mlp", .config_text = "model:\n  name: mlp\n", .step = step, .world_size = 2};
    char err[1024];
    int rc = tf_ckpt_save(g_dir, &m, t, 2, NULL, 0, err, sizeof err);
    if (rc) fprintf(stderr, "save %llu: %s\n", (unsigned long long)step, err);
    return rc;
}

static void fpath(char *buf, size_t cap, uint64_t step, const char *suffix) {
    snprintf(buf, cap, "%s/step_%08llu%s", g_dir, (unsigned long long)step, suffix);
}

static int exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static int put(const char *p, const char *text) {
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* find_latest: returns the step found (or -1 / -2 for none / error), warnings into w. */
static long long latest(char *warn, size_t cap, char *err, size_t ecap) {
    FILE *w = tmpfile();
    TfCkpt *ck = NULL;
    err[0] = '\0';
    int rc = tf_ckpt_find_latest(g_dir, w, &ck, err, ecap);
    long long step = rc == 1 && ck ? (long long)ck->meta.step : rc == 0 ? -1 : -2;
    if (ck && (ck->tensors[0].data[1] != (float)(ck->meta.step * 100 + 1))) step = -3; /* wrong data */
    tf_ckpt_free(ck);
    warn[0] = '\0';
    if (w) {
        rewind(w);
        size_t n = fread(warn, 1, cap - 1, w);
        warn[n] = '\0';
        fclose(w);
    }
    return step;
}

static void flip_byte(const char *p, long at) {
    FILE *f = fopen(p, "r+b");
    if (!f) return;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

int main(void) {
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    char warn[8192], err[2048], p[4200], q[4200];
    TfCkpt *ck = NULL;

    /* No directory / empty directory: nothing to resume, not an error. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none", g_dir);
    CHECK(tf_ckpt_find_latest(missing, NULL, &ck, err, sizeof err) == 0 && ck == NULL);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == -1);

    CHECK(save_step(10) == 0 && save_step(20) == 0 && save_step(30) == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 30 && warn[0] == '\0');

    /* Incomplete newer saves are ignored: an unmarked .ckpt (a copy of a good file) and temps. */
    fpath(p, sizeof p, 20, ".ckpt");
    fpath(q, sizeof q, 40, ".ckpt");
    CHECK(link(p, q) == 0);
    fpath(q, sizeof q, 50, ".ckpt.tmp");
    CHECK(put(q, "partial") == 0);
    fpath(q, sizeof q, 60, ".done");
    CHECK(put(q, "tinyflow checkpoint complete\nfile step_00000060.ckpt\nstep 60\nbytes 10\n") == 0); /* orphan */
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 30);
    CHECK_MSG(strstr(warn, "step_00000040.ckpt") && strstr(warn, "no completion marker"), "%s", warn);
    CHECK(tf_ckpt_load_step(g_dir, 40, &ck, err, sizeof err) == -1 && strstr(err, "step_00000040.done"));
    uint64_t steps[8];
    CHECK(tf_ckpt_list(g_dir, steps, 8, err, sizeof err) == 3 && steps[0] == 10 && steps[2] == 30);

    /* Newest corrupt -> fall back to 20, warning names the file and the tensor. */
    fpath(p, sizeof p, 30, ".ckpt");
    struct stat st;
    CHECK(stat(p, &st) == 0);
    flip_byte(p, (long)st.st_size - 60); /* inside the last tensor's data */
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 20);
    CHECK_MSG(strstr(warn, "step_00000030.ckpt") && strstr(warn, "'ema/w'") && strstr(warn, "corrupted"), "%s", warn);
    CHECK(tf_ckpt_load_step(g_dir, 30, &ck, err, sizeof err) == -1 && ck == NULL);

    /* Newest truncated after its marker was written -> the marker's size disagrees. */
    CHECK(save_step(30) == 0 && latest(warn, sizeof warn, err, sizeof err) == 30);
    CHECK(truncate(p, st.st_size - 5) == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 20 && strstr(warn, "step_00000030.ckpt") && strstr(warn, "marker says"));
    /* Foreign bytes under our name (marker matches the size) -> refused by magic. */
    const char *foreign = "this is not a checkpoint at all, just text";
    char marker[256];
    snprintf(marker, sizeof marker, "tinyflow checkpoint complete\nfile step_00000030.ckpt\nstep 30\nbytes %zu\n",
             strlen(foreign));
    CHECK(put(p, foreign) == 0);
    fpath(q, sizeof q, 30, ".done");
    CHECK(put(q, marker) == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 20 && strstr(warn, "not a tinyflow checkpoint"));
    /* A malformed marker. */
    CHECK(save_step(30) == 0);
    CHECK(put(q, "garbage") == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 20 && strstr(warn, "malformed"));
    /* A complete-looking step whose files are symlinks to a good checkpoint: never followed. */
    CHECK(save_step(30) == 0);
    fpath(p, sizeof p, 70, ".ckpt");
    fpath(q, sizeof q, 70, ".done");
    CHECK(symlink("step_00000030.ckpt", p) == 0 && symlink("step_00000030.done", q) == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 30 && strstr(warn, "step_00000070"));
    unlink(p);
    unlink(q);
    /* Every complete checkpoint bad -> an error naming the newest's reason. */
    for (int s = 10; s <= 30; s += 10) {
        fpath(p, sizeof p, (uint64_t)s, ".ckpt");
        flip_byte(p, 20);
    }
    CHECK(latest(warn, sizeof warn, err, sizeof err) == -2 && strstr(err, "none of the 3") && strstr(err, "step_00000030"));

    /* Retention: K=3 newest + every 5th; leftovers (temps, unmarked, orphan markers) go. */
    tf_rm_dir(g_dir);
    CHECK(mkdir(g_dir, 0700) == 0);
    for (uint64_t s = 1; s <= 12; s++) CHECK(save_step(s) == 0);
    fpath(q, sizeof q, 13, ".ckpt.tmp");
    put(q, "x");
    fpath(q, sizeof q, 14, ".done.tmp");
    put(q, "x");
    fpath(q, sizeof q, 15, ".ckpt");
    put(q, "x");
    fpath(q, sizeof q, 0, ".done");
    put(q, "x");
    snprintf(q, sizeof q, "%s/notes.txt", g_dir); /* not ours: left alone */
    put(q, "keep me");
    int removed = tf_ckpt_retain(g_dir, 3, 5, NULL, err, sizeof err);
    CHECK_MSG(removed == 2 * 8 + 4, "removed %d: %s", removed, err);
    int n = tf_ckpt_list(g_dir, steps, 8, err, sizeof err);
    CHECK(n == 4 && steps[0] == 5 && steps[1] == 10 && steps[2] == 11 && steps[3] == 12);
    CHECK(exists(q));
    fpath(q, sizeof q, 13, ".ckpt.tmp");
    CHECK(!exists(q));
    fpath(q, sizeof q, 15, ".ckpt");
    CHECK(!exists(q));
    CHECK(tf_ckpt_retain(g_dir, 3, 5, NULL, err, sizeof err) == 0); /* idempotent */
    CHECK(tf_ckpt_retain(g_dir, 1, 0, NULL, err, sizeof err) == 6);
    CHECK(tf_ckpt_list(g_dir, steps, 8, err, sizeof err) == 1 && steps[0] == 12);
    CHECK(tf_ckpt_retain(g_dir, 0, 0, NULL, err, sizeof err) == -1 && strstr(err, "keep_last"));

    /* A symlink planted at the temp name -> a canary outside the directory stays untouched. */
    char canary_dir[] = "/tmp/tf_ckpt_canary_XXXXXX", canary[4200];
    CHECK(mkdtemp(canary_dir) != NULL);
    snprintf(canary, sizeof canary, "%s/canary", canary_dir);
    CHECK(put(canary, "canary") == 0);
    fpath(p, sizeof p, 80, ".ckpt.tmp");
    fpath(q, sizeof q, 80, ".done.tmp");
    CHECK(symlink(canary, p) == 0 && symlink(canary, q) == 0);
    CHECK(save_step(80) == 0);
    FILE *f = fopen(canary, "rb");
    char got[64] = "";
    if (f) { size_t k = fread(got, 1, sizeof got - 1, f); got[k] = '\0'; fclose(f); }
    CHECK(strcmp(got, "canary") == 0);
    CHECK(!exists(p) && !exists(q));
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 80);
    /* ... also a dangling symlink, and one planted at the final name (replaced, not followed). */
    snprintf(q, sizeof q, "%s/absent", canary_dir);
    CHECK(symlink(q, p) == 0);
    fpath(q, sizeof q, 90, ".ckpt");
    CHECK(symlink(canary, q) == 0);
    fpath(p, sizeof p, 90, ".ckpt.tmp");
    CHECK(save_step(90) == 0);
    fpath(p, sizeof p, 80, ".ckpt.tmp");
    CHECK(save_step(80) == 0 && !exists(p));
    snprintf(q, sizeof q, "%s/absent", canary_dir);
    CHECK(!exists(q));
    f = fopen(canary, "rb");
    got[0] = '\0';
    if (f) { size_t k = fread(got, 1, sizeof got - 1, f); got[k] = '\0'; fclose(f); }
    CHECK(strcmp(got, "canary") == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 90);
    /* A directory at the temp name: the save fails clearly and touches nothing else. */
    fpath(p, sizeof p, 95, ".ckpt.tmp");
    CHECK(mkdir(p, 0700) == 0);
    TfCkptTensor t1 = {"param/w", 1, {4}, 4, g_data, 0};
    TfCkptMeta m = {.arch = "mlp", .config_text = "", .step = 95};
    CHECK(tf_ckpt_save(g_dir, &m, &t1, 1, NULL, 0, err, sizeof err) == -1 && strstr(err, "creating the temp file"));
    CHECK(rmdir(p) == 0);
    CHECK(latest(warn, sizeof warn, err, sizeof err) == 90);
    /* A run folder names its checkpoints/ subfolder; any other folder names itself. */
    char run[600], sub[700], buf[800];
    snprintf(run, sizeof run, "%s/run", canary_dir);
    snprintf(sub, sizeof sub, "%s/checkpoints", run);
    CHECK(!strcmp(tf_ckpt_dir_of(g_dir, buf, sizeof buf), g_dir));
    CHECK(mkdir(run, 0700) == 0 && !strcmp(tf_ckpt_dir_of(run, buf, sizeof buf), run));
    CHECK(mkdir(sub, 0700) == 0 && !strcmp(tf_ckpt_dir_of(run, buf, sizeof buf), sub));
    rmdir(sub);
    rmdir(run);
    unlink(canary);
    rmdir(canary_dir);
    tf_rm_dir(g_dir);
    return tf_test_finish("test_ckpt_dir");
}
