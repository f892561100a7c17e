/* fuzz_config.c - libFuzzer target: a fuzzed primary config file composed with the real
 * config groups. Once per process the harness makes a temp config dir whose group folders
 * are symlinks to configs/<group>; each input becomes its config.yaml and goes through
 * tf_cfg_compose (defaults list, groups, `_self_`, packages), tf_cfg_validate (schema and
 * cross-key rules), tf_cfg_apply of typical overrides, and a resolved dump. Composition
 * only reads files. Seeds: configs/config.yaml and the experiment files
 * (fuzz/make_corpus.sh). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "fuzz_common.h"

static char g_dir[4096];
static char g_primary[4200];

static void cleanup(void) {
    DIR *d = opendir(g_dir);
    if (!d) return;
    struct dirent *e;
    char p[8400];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p); /* the group symlinks themselves, never what they point to */
    }
    closedir(d);
    rmdir(g_dir);
}

static void setup(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/tf_fuzz_config_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) abort();
    atexit(cleanup);
    char src[4400], real[4096];
    if (!realpath(tf_fuzz_config_dir(), real)) {
        fprintf(stderr, "fuzz_config: config dir '%s' not found (set TINYFLOW_CONFIG_DIR)\n", tf_fuzz_config_dir());
        abort();
    }
    DIR *d = opendir(real);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.') continue;
        snprintf(src, sizeof src, "%s/%.200s", real, e->d_name);
        if (stat(src, &st) || !S_ISDIR(st.st_mode)) continue;
        char link_at[4400 + 64];
        snprintf(link_at, sizeof link_at, "%s/%.200s", g_dir, e->d_name);
        if (symlink(src, link_at)) abort();
    }
    closedir(d);
    snprintf(g_primary, sizeof g_primary, "%s/config.yaml", g_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    if (!g_dir[0]) setup();
    FILE *f = fopen(g_primary, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    TfCfg *cfg = NULL;
    TfCfgError err;
    err.msg[0] = '\0';
    if (tf_cfg_compose(g_dir, "config", NULL, 0, &cfg, &err) != 0) {
        if (cfg || !err.msg[0]) abort();
        return 0;
    }
    (void)tf_cfg_validate(cfg, 1, &err);
    (void)tf_cfg_validate(cfg, 2, &err);
    static const char *const ovs[] = {"trainer.steps=3", "+extra.key=[1,2,{a: b}]", "++model.base_ch=8",
                                      "~eval"};
    for (size_t k = 0; k < sizeof ovs / sizeof ovs[0]; k++) (void)tf_cfg_apply(cfg, ovs[k], &err);
    (void)tf_cfg_choice(cfg, "model");
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        (void)tf_cfg_dump(cfg, null, 0, &err);
        (void)tf_cfg_dump(cfg, null, 1, &err);
        fclose(null);
    }
    (void)tf_cfg_validate(cfg, 1, &err);
    tf_cfg_destroy(cfg);
    return 0;
}
