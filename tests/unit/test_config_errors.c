/* test_config_errors.c - every config error names what is wrong: composition errors on a
 * generated config folder (defaults lists, packages, group options, YAML syntax), override
 * errors in struct mode with the closest key, interpolation errors, `???`, and each
 * validation rule on the shipped configs (types, ranges, choices, world size, cross-key
 * rules); the typed getters end the program with exit 2 naming the key (checked in a fork). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "tf_child.h"
#include "tf_test.h"

static char g_tmp[64], g_configs[1100];

static void put(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Compose in dir (tmp folder when NULL) and expect failure mentioning each of want[]. */
static void compose_fails(const char *dir, const char *name, int n, const char **ovs, const char *w1, const char *w2) {
    TfCfg *cfg = NULL;
    TfCfgError e = {{0}, {0}};
    int rc = tf_cfg_compose(dir ? dir : g_tmp, name, ovs, n, &cfg, &e);
    CHECK_MSG(rc == -1, "composition of %s with %s succeeded", name, n ? ovs[0] : "-");
    if (!rc) { tf_cfg_destroy(cfg); return; }
    char both[2600];
    snprintf(both, sizeof both, "%s | hint: %s", e.msg, e.hint);
    CHECK_MSG(strstr(both, w1), "expected '%s' in: %s", w1, both);
    if (w2) CHECK_MSG(strstr(both, w2), "expected '%s' in: %s", w2, both);
}

static void validate_fails(int world, int n, const char **ovs, const char *want) {
    TfCfg *cfg = NULL;
    TfCfgError e = {{0}, {0}};
    if (tf_cfg_compose(g_configs, "config", ovs, n, &cfg, &e)) {
        CHECK_MSG(0, "compose failed: %s", e.msg);
        return;
    }
    int rc = tf_cfg_validate(cfg, world, &e);
    CHECK_MSG(rc == -1, "%s validated at world %d", ovs[n - 1], world);
    if (!rc) { tf_cfg_destroy(cfg); return; }
    CHECK_MSG(strstr(e.msg, want), "%s: expected '%s' in: %s", ovs[n - 1], want, e.msg);
    CHECK(e.hint[0] != '\0');
    tf_cfg_destroy(cfg);
}

static void test_composition_errors(void) {
    put("config.yaml", "defaults:\n  - model: small\n  - _self_\nseed: 1\nname: ${oc.env:TF_TEST_UNSET_VAR}\n"
                       "loop: ${loop2}\nloop2: ${loop}\nmust: ???\nuses_must: ${must}\nbad_ref: ${model.widht}\n"
                       "rel: ${.seed}\nres: ${foo:bar}\nenv_ok: ${oc.env:TF_TEST_SET_VAR,7}\n");
    put("model/small.yaml", "width: 8\ndepth: 2\n");
    put("model/large.yaml", "width: 64\n");
    put("exp/bad.yaml", "# @package _global_\ndefaults:\n  - override /optim: adam\n");
    put("exp/pkg.yaml", "# @package foo.bar\nx: 1\n");
    put("exp/dup.yaml", "a: 1\na: 2\n");
    put("exp/syntax.yaml", "a: [1, 2\n");
    put("prim_override.yaml", "defaults:\n  - override model: small\n");
    put("prim_dup.yaml", "defaults:\n  - model: small\n  - model: large\n");
    put("prim_nodir.yaml", "defaults:\n  - nogroup: x\n");
    const char *o1[] = {"model=smal"};
    compose_fails(NULL, "config", 1, o1, "config group 'model' has no option 'smal'; did you mean 'small'?", "large, small");
    const char *o2[] = {"+model=large"};
    compose_fails(NULL, "config", 1, o2, "could not add 'model': the group is already chosen (small)", "model=large");
    const char *o3[] = {"exp=bad"};
    compose_fails(NULL, "config", 1, o3, "could not override 'exp'", "+exp=bad");
    const char *o4[] = {"+exp=bad"};
    compose_fails(NULL, "config", 1, o4, "cannot override group 'optim'", "exp/bad.yaml");
    const char *o5[] = {"+exp=pkg"};
    compose_fails(NULL, "config", 1, o5, "unsupported package 'foo.bar'", NULL);
    const char *o6[] = {"+exp=dup"};
    compose_fails(NULL, "config", 1, o6, "exp/dup.yaml:2: duplicate key 'a'", NULL);
    const char *o7[] = {"+exp=syntax"};
    compose_fails(NULL, "config", 1, o7, "exp/syntax.yaml:", "YAML error");
    compose_fails(NULL, "prim_override", 0, NULL, "'override' in the primary defaults list", NULL);
    compose_fails(NULL, "prim_dup", 0, NULL, "group 'model' appears twice", NULL);
    compose_fails(NULL, "prim_nodir", 0, NULL, "config group 'nogroup' does not exist", NULL);
    compose_fails(NULL, "nope", 0, NULL, "cannot open", "nope.yaml");
    compose_fails("/nonexistent/configs", "config", 0, NULL, "config directory '/nonexistent/configs' not found", "--config-dir");
    const char *o8[] = {"model.widht=3"};
    compose_fails(NULL, "config", 1, o8, "key 'model.widht' is not in the config (did you mean 'model.width'?)", "+model.widht=3");
    const char *o9[] = {"+seed=2"};
    compose_fails(NULL, "config", 1, o9, "could not add '+seed=2': key 'seed' is already in the config", "++seed=2");
    const char *o10[] = {"~model.depth=3"};
    compose_fails(NULL, "config", 1, o10, "the value of 'model.depth' differs", NULL);
    const char *o11[] = {"~nothing"};
    compose_fails(NULL, "config", 1, o11, "could not delete '~nothing'", NULL);
    const char *o12[] = {"seed=1,2"};
    compose_fails(NULL, "config", 1, o12, "ambiguous value", "-m");
    const char *o13[] = {"seed.x=1"};
    compose_fails(NULL, "config", 1, o13, "not in the config", NULL);
    /* Interpolation errors surface on read, naming the key. */
    TfCfg *cfg = NULL;
    TfCfgError e;
    unsetenv("TF_TEST_UNSET_VAR");
    setenv("TF_TEST_SET_VAR", "12", 1);
    CHECK(tf_cfg_compose(g_tmp, "config", NULL, 0, &cfg, &e) == 0);
    if (!cfg) return;
    struct { const char *key, *want; } cases[] = {
        {"name", "'name': environment variable 'TF_TEST_UNSET_VAR' is not set"},
        {"loop", "interpolation loop"},
        {"must", "missing mandatory value 'must'"},
        {"uses_must", "points to the mandatory value 'must'"},
        {"bad_ref", "${model.widht} points to a missing key (did you mean 'model.width'?)"},
        {"rel", "relative interpolation"},
        {"res", "unknown resolver 'foo'"},
        {"nokey", "config key 'nokey' is not in the config"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        TfCfgNode *v = tf_cfg_resolved(cfg, cases[k].key, &e);
        CHECK_MSG(v == NULL, "%s resolved", cases[k].key);
        tf_node_free(v);
        if (!v) CHECK_MSG(strstr(e.msg, cases[k].want), "%s: expected '%s' in: %s", cases[k].key, cases[k].want, e.msg);
    }
    CHECK(tf_cfg_get_int(cfg, "env_ok") == 12); /* env values are typed */
    tf_cfg_destroy(cfg);
}

static void die_get_float(const void *cfg) { tf_cfg_get_float(cfg, "dataset.name"); }
static void die_get_missing(const void *cfg) { tf_cfg_get_int(cfg, "optim.lrr"); }
static void die_get_mandatory(const void *cfg) { tf_cfg_get_str(cfg, "dataset.root"); }


static void test_getters_die(void) {
    const char *ovs[] = {"dataset.root=???"};
    TfCfg *cfg = NULL;
    TfCfgError e;
    if (tf_cfg_compose(g_configs, "config", ovs, 1, &cfg, &e)) { CHECK_MSG(0, "%s", e.msg); return; }
    char out[2048];
    int code = tf_child_run(die_get_float, cfg, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "config key 'dataset.name' is a string, not a number"), "%d: %s", code, out);
    code = tf_child_run(die_get_missing, cfg, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "'optim.lrr' is not in the config (did you mean 'optim.lr'?)"), "%d: %s", code, out);
    code = tf_child_run(die_get_mandatory, cfg, out, sizeof out);
    CHECK_MSG(code == 2 && strstr(out, "missing mandatory value 'dataset.root'") && strstr(out, "dataset.root=VALUE"),
              "%d: %s", code, out);
    CHECK(tf_cfg_validate(cfg, 1, &e) == -1 && strstr(e.msg, "missing mandatory value 'dataset.root'"));
    tf_cfg_destroy(cfg);
}

static void test_validation(void) {
    struct { int world; const char *ov[3]; const char *want; } cases[] = {
        {1, {"optim.lr=-1"}, "optim.lr = -1: out of range, must be in (0, 10]"},
        {1, {"optim.lr=abc"}, "optim.lr: expected a number, got string 'abc'"},
        {1, {"dataset.batch_size=0"}, "dataset.batch_size = 0: out of range, must be in [1, 1e+07]"},
        {1, {"dataset.batch_size=12.5"}, "dataset.batch_size: expected an integer, got float"},
        {3, {"dataset.batch_size=128"}, "dataset.batch_size = 128 is the GLOBAL batch and must be divisible by the world size 3"},
        {4, {"dataset.batch_size=128", "trainer.micro_batch=5"}, "trainer.micro_batch = 5 must divide the per-rank batch 32"},
        {1, {"model.name=unte"}, "model.name = 'unte': must be one of unet|mlp (did you mean 'unet'?)"},
        {1, {"path.coupling=OT"}, "did you mean 'ot'?"},
        {1, {"model.zero_init=1"}, "model.zero_init: expected true or false, got int"},
        {1, {"model.ch_mult=[1,0]"}, "model.ch_mult[1] = 0: out of range"},
        {1, {"optim.betas=[0.9]"}, "optim.betas must have 2 elements"},
        {1, {"optim.betas=0.9"}, "optim.betas: expected a list"},
        {1, {"trainer.seed=null"}, "trainer.seed: must not be null"},
        {1, {"trainer.epochs=3"}, "set exactly one of trainer.steps and trainer.epochs"},
        {1, {"dataset.channels=3"}, "dataset.channels = 3 does not match mnist (1)"},
        {1, {"model.in_ch=3"}, "model input 3x28 does not match the dataset's 1x28"},
        {1, {"model=mlp"}, "model.name = mlp takes 2-D toy data, not mnist images"},
        {1, {"dataset=moons"}, "model.name = unet takes images; moons is 2-D toy data"},
        {1, {"model.num_classes=7"}, "model.num_classes = 7 must be 0 (unconditional) or the dataset's 10"},
        {1, {"model.attn_res=[8]"}, "model.attn_res: 8 is not a resolution of the U-Net"},
        {1, {"model.attn_res=[7]", "model.heads=3"}, "model.heads = 3 must divide the 128 channels at resolution 7"},
        {1, {"model.groups=24"}, "model.groups = 24 must divide the 64 channels of level 0"},
        {1, {"model.ch_mult=[1,2,2,2]"}, "model.image_size = 28 cannot be halved 3 times"},
        {1, {"lr_schedule.min_lr=1"}, "lr_schedule.min_lr = 1 exceeds optim.lr"},
        {1, {"trainer.steps=500"}, "lr_schedule.warmup_steps = 1000 must be below trainer.steps = 500"},
        {1, {"path=vp", "path.beta_min=30"}, "path.beta_min must be below path.beta_max"},
        {1, {"eval.grid_rows=9"}, "eval.grid_rows x eval.grid_cols = 72 exceeds eval.n_samples = 64"},
        {1, {"model=mlp", "dataset=moons", "dataset.n_samples=100"}, "dataset.n_samples = 100 is smaller than one global batch"},
        {1, {"++model.hiden=3"}, "unknown key 'model.hiden' (did you mean 'model.hidden'?)"},
        {1, {"~optim.eps"}, "missing key 'optim.eps'"},
        {1, {"path=polynomial", "~path.n"}, "missing key 'path.n', needed when path.scheduler=polynomial"},
        {1, {"model.base_ch=${oc.env:TF_TEST_UNSET_VAR}"}, "environment variable 'TF_TEST_UNSET_VAR' is not set"},
        {1, {"solver.guidance=inf"}, "solver.guidance = .inf: out of range"},
        {1, {"solver.guidance_interval=[0.8,0.2]"}, "solver.guidance_interval = [0.8, 0.2]: lo must be below hi"},
        {1, {"solver.guidance_interval=[0.2]"}, "solver.guidance_interval must have 2 elements [lo, hi], not 1"},
        {1, {"eval.solver.guidance_interval=[0,1.5]"}, "eval.solver.guidance_interval[1] = 1.5: out of range"},
        {1, {"path.clip=0.5"}, "path.clip = 0.5: out of range, must be in [0, 0.5)"},
    };
    unsetenv("TF_TEST_UNSET_VAR");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int n = 0;
        while (n < 3 && cases[k].ov[n]) n++;
        validate_fails(cases[k].world, n, cases[k].ov, cases[k].want);
    }
    /* Several problems are all listed. */
    const char *many[] = {"optim.lr=-1", "dataset.batch_size=0", "model.dropout=2"};
    TfCfg *cfg = NULL;
    TfCfgError e;
    if (!tf_cfg_compose(g_configs, "config", many, 3, &cfg, &e)) {
        CHECK(tf_cfg_validate(cfg, 1, &e) == -1);
        CHECK(strstr(e.msg, "optim.lr") && strstr(e.msg, "dataset.batch_size") && strstr(e.msg, "model.dropout"));
        tf_cfg_destroy(cfg);
    }
    /* The same global batch is fine on 1, 2, 4 and 8 ranks. */
    for (int world = 1; world <= 8; world *= 2) {
        if (!tf_cfg_compose(g_configs, "config", NULL, 0, &cfg, &e)) {
            CHECK_MSG(tf_cfg_validate(cfg, world, &e) == 0, "world %d: %s", world, e.msg);
            tf_cfg_destroy(cfg);
        }
    }
}

int main(void) {
    char src[1024];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *cut = strstr(src, "tests/unit/");
    if (!cut) return 77;
    *cut = '\0';
    snprintf(g_configs, sizeof g_configs, "%sconfigs", src);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/tf_test_cfgerr_XXXXXX");
    if (!mkdtemp(g_tmp)) return 1;
    test_composition_errors();
    test_getters_die();
    test_validation();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_tmp);
    return tf_test_finish("test_config_errors");
}
