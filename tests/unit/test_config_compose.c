/* test_config_compose.c - composition of the shipped configs/: defaults, group options,
 * experiments (@package _global_ + override), every override form applied, interpolation
 * (${key}, ${oc.env}), typed getters, dump/save round trips; every group option composes
 * and validates; docs/config.md names every key of the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/yaml_io.h"
#include "tf_test.h"

static char g_configs[1100], g_docs[1100];

static TfCfg *compose(int n, const char **ovs) {
    TfCfg *cfg = NULL;
    TfCfgError e;
    int rc = tf_cfg_compose(g_configs, "config", ovs, n, &cfg, &e);
    CHECK_MSG(rc == 0, "compose failed: %s", e.msg);
    return cfg;
}

static int valid(const TfCfg *cfg, int world, TfCfgError *e) { return tf_cfg_validate(cfg, world, e) == 0; }

static void test_defaults(void) {
    TfCfg *cfg = compose(0, NULL);
    if (!cfg) return;
    TfCfgError e;
    CHECK_MSG(valid(cfg, 1, &e), "default config invalid: %s", e.msg);
    CHECK(!strcmp(tf_cfg_choice(cfg, "model"), "unet") && !strcmp(tf_cfg_choice(cfg, "dataset"), "mnist"));
    CHECK(tf_cfg_choice(cfg, "experiment") == NULL);
    CHECK(!strcmp(tf_cfg_get_str(cfg, "model.name"), "unet"));
    CHECK(tf_cfg_get_int(cfg, "model.in_ch") == 1);           /* ${dataset.channels} */
    CHECK(tf_cfg_get_int(cfg, "model.image_size") == 28);
    CHECK(tf_cfg_get_float(cfg, "optim.lr") == 2e-4);
    CHECK(tf_cfg_get_bool(cfg, "model.zero_init") == 1);
    CHECK(tf_cfg_is_null(cfg, "trainer.epochs") && !tf_cfg_has(cfg, "trainer.epochs") && tf_cfg_has(cfg, "trainer.steps"));
    int64_t mult[8];
    CHECK(tf_cfg_get_int_list(cfg, "model.ch_mult", mult, 8) == 3 && mult[1] == 2);
    double betas[2];
    CHECK(tf_cfg_get_float_list(cfg, "optim.betas", betas, 2) == 2 && betas[1] == 0.999);
    /* oc.env with and without the variable. */
    unsetenv("TINYFLOW_DATA");
    CHECK(!strcmp(tf_cfg_get_str(cfg, "dataset.root"), "data"));
    setenv("TINYFLOW_DATA", "/scratch/d", 1);
    CHECK(!strcmp(tf_cfg_get_str(cfg, "dataset.root"), "/scratch/d"));
    unsetenv("TINYFLOW_DATA");
    tf_cfg_destroy(cfg);
}

static void test_experiments(void) {
    const char *moons[] = {"experiment=moons"};
    TfCfg *cfg = compose(1, moons);
    TfCfgError e;
    if (cfg) {
        CHECK_MSG(valid(cfg, 1, &e), "experiment=moons invalid: %s", e.msg);
        CHECK(!strcmp(tf_cfg_choice(cfg, "model"), "mlp") && !strcmp(tf_cfg_choice(cfg, "dataset"), "moons"));
        CHECK(!strcmp(tf_cfg_get_str(cfg, "model.name"), "mlp") && tf_cfg_get_int(cfg, "model.in_ch") == 2);
        CHECK(tf_cfg_get_float(cfg, "optim.lr") == 1e-3 && tf_cfg_get_int(cfg, "trainer.steps") == 5000);
        CHECK(!strcmp(tf_cfg_get_str(cfg, "lr_schedule.name"), "constant"));
        CHECK(tf_node_find(tf_cfg_root(cfg), "model.ch_mult") == NULL); /* unet keys are gone */
        tf_cfg_destroy(cfg);
    }
    /* The command line beats the experiment, whatever the order. */
    const char *both[] = {"dataset=circles", "experiment=moons", "optim.lr=5e-4"};
    cfg = compose(3, both);
    if (cfg) {
        CHECK(!strcmp(tf_cfg_get_str(cfg, "dataset.name"), "circles") && tf_cfg_get_float(cfg, "optim.lr") == 5e-4);
        CHECK(valid(cfg, 1, &e));
        tf_cfg_destroy(cfg);
    }
    const char *mnist[] = {"experiment=mnist"};
    cfg = compose(1, mnist);
    if (cfg) {
        CHECK_MSG(valid(cfg, 1, &e), "experiment=mnist invalid: %s", e.msg);
        CHECK(tf_cfg_get_int(cfg, "model.num_classes") == 10 && tf_cfg_get_float(cfg, "solver.guidance") == 2.0);
        tf_cfg_destroy(cfg);
    }
    /* An experiment extending another (`- mnist`): the base's groups and keys, then its own. */
    const char *fashion[] = {"experiment=fashion_mnist"};
    cfg = compose(1, fashion);
    if (cfg) {
        CHECK_MSG(valid(cfg, 2, &e), "experiment=fashion_mnist invalid: %s", e.msg);
        CHECK(!strcmp(tf_cfg_get_str(cfg, "dataset.name"), "fashion_mnist") && !tf_cfg_get_bool(cfg, "dataset.hflip"));
        CHECK(tf_cfg_get_int(cfg, "model.num_res_blocks") == 1 && tf_cfg_get_float(cfg, "optim.lr") == 3e-3);
        CHECK(tf_cfg_get_int(cfg, "trainer.steps") == 2500 && !strcmp(tf_cfg_get_str(cfg, "solver.name"), "midpoint"));
        double iv[2] = {0, 0};
        CHECK(tf_cfg_get_float_list(cfg, "solver.guidance_interval", iv, 2) == 2 && iv[0] == 0.2 && iv[1] == 1.0);
        CHECK(!tf_cfg_get_bool(cfg, "dataset.dequantize")); /* the base sets it true; fashion_mnist's own keys win */
        CHECK(!strcmp(tf_cfg_get_str(cfg, "optim.name"), "adamw"));
        tf_cfg_destroy(cfg);
    }
    const char *fashion_cli[] = {"dataset=mnist", "experiment=fashion_mnist"};
    cfg = compose(2, fashion_cli);
    if (cfg) {
        CHECK(!strcmp(tf_cfg_get_str(cfg, "dataset.name"), "mnist")); /* the command line still wins */
        tf_cfg_destroy(cfg);
    }
    const char *multi[] = {"experiment=cifar10_multigpu"};
    cfg = compose(1, multi);
    if (cfg) {
        CHECK_MSG(valid(cfg, 8, &e), "experiment=cifar10_multigpu at 8 ranks invalid: %s", e.msg);
        CHECK(tf_cfg_get_int(cfg, "dataset.batch_size") == 512 && tf_cfg_get_int(cfg, "model.base_ch") == 128);
        tf_cfg_destroy(cfg);
    }
    const char *cifar[] = {"experiment=cifar10"};
    cfg = compose(1, cifar);
    if (cfg) {
        CHECK_MSG(valid(cfg, 8, &e), "experiment=cifar10 at 8 ranks invalid: %s", e.msg);
        CHECK(tf_cfg_get_int(cfg, "model.in_ch") == 3 && tf_cfg_get_bool(cfg, "dataset.hflip"));
        CHECK(!strcmp(tf_cfg_get_str(cfg, "optim.name"), "adamw") && !strcmp(tf_cfg_get_str(cfg, "solver.name"), "dopri5"));
        tf_cfg_destroy(cfg);
    }
}

/* A base option that does not exist, and options extending each other, fail with a message. */
static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_extends_errors(void) {
    char dir[] = "/tmp/tf_cfg_extXXXXXX", p[256];
    if (!mkdtemp(dir)) { CHECK_MSG(0, "mkdtemp failed"); return; }
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    write_file(p, "defaults:\n  - _self_\n  - experiment: null\nx: 1\n");
    snprintf(p, sizeof p, "%s/experiment", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/experiment/a.yaml", dir);
    write_file(p, "# @package _global_\ndefaults:\n  - nosuch\nx: 2\n");
    snprintf(p, sizeof p, "%s/experiment/b.yaml", dir);
    write_file(p, "# @package _global_\ndefaults:\n  - c\nx: 3\n");
    snprintf(p, sizeof p, "%s/experiment/c.yaml", dir);
    write_file(p, "# @package _global_\ndefaults:\n  - b\nx: 4\n");
    TfCfg *cfg = NULL;
    TfCfgError e;
    const char *a[] = {"experiment=a"}, *b[] = {"experiment=b"};
    CHECK(tf_cfg_compose(dir, "config", a, 1, &cfg, &e) != 0 && strstr(e.msg, "no option 'nosuch' to extend"));
    CHECK(tf_cfg_compose(dir, "config", b, 1, &cfg, &e) != 0 && strstr(e.msg, "too deeply"));
    const char *names[] = {"experiment/a.yaml", "experiment/b.yaml", "experiment/c.yaml", "config.yaml", "experiment"};
    for (int k = 0; k < 5; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        k < 4 ? unlink(p) : rmdir(p);
    }
    rmdir(dir);
}

static void test_override_forms(void) {
    const char *ovs[] = {"optim.lr=3e-4", "+trainer.micro_batch_note='x'", "++trainer.seed=7", "++extra.deep.key=[1,2]",
                         "~model.dropout", "model.ch_mult=[1,2]", "eval.solver={name: rk4, steps: 10}",
                         "trainer.out_dir=runs/${dataset.name}"};
    TfCfg *cfg = compose(8, ovs);
    if (!cfg) return;
    const TfCfgNode *root = tf_cfg_root(cfg);
    CHECK(tf_cfg_get_float(cfg, "optim.lr") == 3e-4 && tf_cfg_get_int(cfg, "trainer.seed") == 7);
    CHECK(!strcmp(tf_node_find(root, "trainer.micro_batch_note")->s, "x"));
    CHECK(tf_node_find(root, "extra.deep.key")->n == 2);
    CHECK(tf_node_find(root, "model.dropout") == NULL);
    CHECK(tf_node_find(root, "model.ch_mult")->n == 2);                      /* lists are assigned */
    CHECK(!strcmp(tf_cfg_get_str(cfg, "eval.solver.name"), "rk4"));           /* dicts merge ... */
    CHECK(tf_cfg_get_int(cfg, "eval.solver.steps") == 10 && tf_cfg_is_null(cfg, "eval.solver.guidance"));
    CHECK(!strcmp(tf_cfg_get_str(cfg, "trainer.out_dir"), "runs/mnist"));    /* ... strings interpolate */
    /* Validation flags the unknown and the deleted keys. */
    TfCfgError e;
    CHECK(!valid(cfg, 1, &e));
    CHECK_MSG(strstr(e.msg, "unknown key 'trainer.micro_batch_note' (did you mean 'trainer.micro_batch'?)"), "%s", e.msg);
    CHECK_MSG(strstr(e.msg, "unknown key 'extra.deep.key'"), "%s", e.msg);
    CHECK_MSG(strstr(e.msg, "missing key 'model.dropout'"), "%s", e.msg);
    /* tf_cfg_apply on a composed config. */
    CHECK(tf_cfg_apply(cfg, "optim.lr=1", &e) == 0 && tf_cfg_get_float(cfg, "optim.lr") == 1.0);
    CHECK(tf_cfg_apply(cfg, "optim.lrx=1", &e) == -1 && strstr(e.msg, "did you mean 'optim.lr'"));
    tf_cfg_destroy(cfg);
    /* Group deletion and addition. */
    const char *grp[] = {"~eval", "+eval=default"};
    cfg = compose(1, grp);
    if (cfg) { CHECK(tf_node_find(tf_cfg_root(cfg), "eval") == NULL && tf_cfg_choice(cfg, "eval") == NULL); tf_cfg_destroy(cfg); }
    cfg = compose(2, grp);
    if (cfg) { CHECK(tf_node_find(tf_cfg_root(cfg), "eval.every") != NULL); tf_cfg_destroy(cfg); }
}

static void test_every_option(void) {
    /* Each option of each group composes and validates in a matching setting. */
    const char *groups[][8] = {
        {"path=condot", "path=polynomial", "path=cosine", "path=lvp", "path=vp", NULL},
        {"solver=euler", "solver=midpoint", "solver=heun", "solver=rk4", "solver=rk4_38", "solver=ddim", "solver=dopri5", NULL},
        {"optim=adam", "optim=adamw", NULL},
        {"lr_schedule=constant", "lr_schedule=step", "lr_schedule=cosine", "lr_schedule=warmup_cosine", "lr_schedule=warmup_linear", NULL},
        {"dataset=mnist", "dataset=fashion_mnist", "dataset=cifar10", NULL},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (int k = 0; groups[g][k]; k++) {
            TfCfg *cfg = compose(1, &groups[g][k]);
            TfCfgError e;
            if (cfg) { CHECK_MSG(valid(cfg, 2, &e), "%s: %s", groups[g][k], e.msg); tf_cfg_destroy(cfg); }
        }
    const char *toys[] = {"moons", "8gaussians", "checkerboard", "circles"};
    for (int k = 0; k < 4; k++) {
        char ds[64];
        snprintf(ds, sizeof ds, "dataset=%s", toys[k]);
        const char *ovs[] = {"model=mlp", ds};
        TfCfg *cfg = compose(2, ovs);
        TfCfgError e;
        if (cfg) {
            CHECK_MSG(valid(cfg, 4, &e), "%s: %s", ds, e.msg);
            CHECK(tf_cfg_get_int(cfg, "model.in_ch") == 2 && tf_cfg_get_int(cfg, "dataset.n_samples") == 100000);
            tf_cfg_destroy(cfg);
        }
    }
}

static void test_dump_and_save(void) {
    const char *ovs[] = {"experiment=moons", "trainer.out_dir='yes'"};
    TfCfg *cfg = compose(2, ovs);
    if (!cfg) return;
    char dir[] = "/tmp/tf_test_cfg_XXXXXX", path[128], text[256];
    if (!mkdtemp(dir)) return;
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    TfCfgError e;
    CHECK(tf_cfg_save(cfg, path, &e) == 0);
    TfCfgNode *back = NULL;
    CHECK(tf_yaml_load_file(path, &back, NULL, &e) == 0);
    CHECK_MSG(back && tf_node_equal(back, tf_cfg_root(cfg)), "saved config does not read back equal");
    CHECK(back && !strcmp(tf_node_find(back, "trainer.out_dir")->s, "yes")); /* quoted, stays a string */
    CHECK(back && !strcmp(tf_node_find(back, "model.in_ch")->s, "${dataset.channels}")); /* unresolved */
    tf_node_free(back);
    snprintf(text, sizeof text, "%s/config.yaml.tmp.%ld", dir, (long)getpid());
    struct stat st;
    CHECK(stat(text, &st) != 0); /* no temp file left */
    const char *list[] = {"experiment=moons", "optim.lr=1e-3", "+a='b: c'"};
    snprintf(path, sizeof path, "%s/overrides.yaml", dir);
    CHECK(tf_cfg_save_overrides(list, 3, path, &e) == 0);
    CHECK(tf_yaml_load_file(path, &back, NULL, &e) == -1); /* a list, not a mapping: not a config file */
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) fclose(f);
    CHECK_MSG(!strcmp(text, "- experiment=moons\n- optim.lr=1e-3\n- '+a=''b: c'''\n"), "overrides.yaml:\n%s", text);
    /* --resolve: interpolations replaced. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK(tf_cfg_dump(cfg, m, 1, &e) == 0);
    fclose(m);
    CHECK(buf && strstr(buf, "  in_ch: 2\n") && !strstr(buf, "${"));
    free(buf);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    unlink(path);
    rmdir(dir);
    tf_cfg_destroy(cfg);
}

static void test_docs(void) {
    FILE *f = fopen(g_docs, "r");
    CHECK_MSG(f != NULL, "cannot open %s", g_docs);
    if (!f) return;
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    size_t nk;
    const TfCfgKey *keys = tf_cfg_keys(&nk);
    for (size_t k = 0; k < nk; k++) {
        char needle[128];
        snprintf(needle, sizeof needle, "`%s`", keys[k].key);
        CHECK_MSG(strstr(text, needle), "docs/config.md does not document %s", keys[k].key);
    }
}

int main(void) {
    /* Locate configs/ and docs/ from this source file: tests/unit/test_config_compose.c. */
    char src[1024];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *cut = strstr(src, "tests/unit/");
    if (!cut) { fprintf(stderr, "cannot locate the source tree from %s\n", __FILE__); return 77; }
    *cut = '\0';
    snprintf(g_configs, sizeof g_configs, "%sconfigs", src);
    snprintf(g_docs, sizeof g_docs, "%sdocs/config.md", src);
    test_defaults();
    test_experiments();
    test_extends_errors();
    test_override_forms();
    test_every_option();
    test_dump_and_save();
    test_docs();
    return tf_test_finish("test_config_compose");
}
