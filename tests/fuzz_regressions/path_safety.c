/* path_safety.c - reliability test (untrusted input, paths): the config module's atomic
 * write (tf_write_file_atomic, used by tf_cfg_save for .hydra/config.yaml) must not follow a
 * symlink planted at its predictable temporary name PATH.tmp.<pid>: the link's target (a
 * canary file outside the output directory) stays unchanged and PATH gets the new text.
 * Exit 0 on success, 1 on failure. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/yaml_io.h"

static int fail(const char *what) {
    fprintf(stderr, "path_safety: FAIL: %s\n", what);
    return 1;
}

static int read_all(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

int main(void) {
    char root[] = "/tmp/tf_path_safety_XXXXXX";
    if (!mkdtemp(root)) return fail("mkdtemp");
    char out_dir[256], canary[256], target[300], tmp[400], buf[256];
    snprintf(out_dir, sizeof out_dir, "%s/run", root);
    snprintf(canary, sizeof canary, "%s/canary", root);
    snprintf(target, sizeof target, "%s/config.yaml", out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", target, (long)getpid());
    if (mkdir(out_dir, 0755)) return fail("mkdir");
    FILE *f = fopen(canary, "wb");
    if (!f || fputs("canary\n", f) < 0 || fclose(f)) return fail("canary");
    if (symlink(canary, tmp)) return fail("symlink");
    TfCfgError err;
    int rc = tf_write_file_atomic(target, "a: 1\n", 5, &err);
    int bad = 0;
    if (rc != 0) bad |= fail(err.msg);
    if (read_all(canary, buf, sizeof buf) || strcmp(buf, "canary\n"))
        bad |= fail("the canary was written through the symlink");
    if (read_all(target, buf, sizeof buf) || strcmp(buf, "a: 1\n")) bad |= fail("the config was not written");
    struct stat st;
    if (lstat(tmp, &st) == 0) bad |= fail("the temporary name is still there");
    unlink(target);
    unlink(tmp);
    unlink(canary);
    rmdir(out_dir);
    rmdir(root);
    if (!bad) printf("path_safety: ok (symlink at the temp name removed, canary intact)\n");
    return bad;
}
