/* test_cli_job.c - the shared handling of config-driven commands: flag parsing, sweeps run in
 * order, --cfg job, validation stopping a run, run directories (outputs/DATE/TIME[_k],
 * multirun/DATE/TIME/N, trainer.out_dir) with .hydra/config.yaml and .hydra/overrides.yaml,
 * world size from the launcher's environment, config folder discovery. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/job.h"
#include "config/yaml_io.h"
#include "tf_test.h"

static char g_configs[1100];
static int g_calls;
static double g_lrs[16];
static char g_dirs[16][512];

static int record(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)ctx;
    if (g_calls < 16) {
        g_lrs[g_calls] = tf_cfg_get_float(cfg, "optim.lr");
        snprintf(g_dirs[g_calls], sizeof g_dirs[0], "%s", run_dir ? run_dir : "");
    }
    g_calls++;
    return 0;
}

static const TfJobCommand k_cmd = {"testcmd", "a test command", "usage: testcmd\n", record, 1};

static int run(int argc, const char **argv) {
    g_calls = 0;
    fflush(stdout);
    return tf_job_main(&k_cmd, argc, (char **)argv);
}

static int exists(const char *p) { struct stat st; return !stat(p, &st); }

static void test_parse(void) {
    TfJobArgs a;
    const char *argv[] = {"testcmd", "-m", "--cfg", "job", "--resolve", "-cd", "/x/y", "-cn", "other.yaml", "a=1", "+b=2", "~c"};
    CHECK(tf_job_parse_args(&k_cmd, 12, (char **)argv, &a) == -1);
    CHECK(a.multirun && a.print_cfg && a.resolve && !strcmp(a.config_dir, "/x/y") && !strcmp(a.config_name, "other"));
    CHECK(a.n_overrides == 3 && !strcmp(a.overrides[1], "+b=2") && !strcmp(a.overrides[2], "~c"));
    free(a.overrides);
    const char *bad1[] = {"testcmd", "--cfg", "hydra"}, *bad2[] = {"testcmd", "--frobnicate"}, *bad3[] = {"testcmd", "--resolve"},
               *bad4[] = {"testcmd", "-cd"}, *help[] = {"testcmd", "x=1", "--help"};
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    CHECK(tf_job_parse_args(&k_cmd, 3, (char **)bad1, &a) == 2); free(a.overrides);
    CHECK(tf_job_parse_args(&k_cmd, 2, (char **)bad2, &a) == 2); free(a.overrides);
    CHECK(tf_job_parse_args(&k_cmd, 2, (char **)bad3, &a) == 2); free(a.overrides);
    CHECK(tf_job_parse_args(&k_cmd, 2, (char **)bad4, &a) == 2); free(a.overrides);
    fclose(stderr);
    stderr = saved;
    FILE *out = stdout;
    stdout = fopen("/dev/null", "w");
    CHECK(tf_job_parse_args(&k_cmd, 3, (char **)help, &a) == 0); free(a.overrides);
    fclose(stdout);
    stdout = out;
}

static void test_runs(void) {
    char cd[1200];
    snprintf(cd, sizeof cd, "%s", g_configs);
    /* A sweep: 2 x 2 jobs in product order, each with its own multirun/DATE/TIME/N directory. */
    const char *sweep[] = {"testcmd", "-cd", cd, "-m", "experiment=moons", "optim.lr=1e-3,2e-3", "trainer.seed=1,2"};
    CHECK(run(7, sweep) == 0);
    CHECK(g_calls == 4);
    CHECK(g_lrs[0] == 1e-3 && g_lrs[1] == 1e-3 && g_lrs[2] == 2e-3 && g_lrs[3] == 2e-3);
    for (int j = 0; j < 4 && j < g_calls; j++) {
        char want[32], p[700];
        snprintf(want, sizeof want, "/%d", j);
        size_t L = strlen(g_dirs[j]);
        CHECK_MSG(strstr(g_dirs[j], "./multirun/") == g_dirs[j] && !strcmp(g_dirs[j] + L - strlen(want), want), "%s", g_dirs[j]);
        CHECK(!strncmp(g_dirs[j], g_dirs[0], L - strlen(want))); /* one sweep root */
        snprintf(p, sizeof p, "%s/.hydra/config.yaml", g_dirs[j]);
        CHECK(exists(p));
    }
    if (g_calls == 4) {
        /* overrides.yaml of job 3 holds the job's own overrides as typed. */
        char p[700], text[512];
        snprintf(p, sizeof p, "%s/.hydra/overrides.yaml", g_dirs[3]);
        FILE *f = fopen(p, "r");
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[n] = '\0';
        if (f) fclose(f);
        CHECK_MSG(!strcmp(text, "- experiment=moons\n- optim.lr=2e-3\n- trainer.seed=2\n"), "%s", text);
        /* config.yaml reads back with the job's values. */
        snprintf(p, sizeof p, "%s/.hydra/config.yaml", g_dirs[3]);
        TfCfgNode *back = NULL;
        TfCfgError e;
        CHECK(tf_yaml_load_file(p, &back, NULL, &e) == 0);
        CHECK(back && tf_node_find(back, "trainer.seed")->i == 2 && tf_node_find(back, "optim.lr")->f == 2e-3);
        CHECK(back && !strcmp(tf_node_find(back, "model.name")->s, "mlp"));
        tf_node_free(back);
    }
    /* Two single runs in the same second get distinct outputs/DATE/TIME[_k] folders. */
    const char *single[] = {"testcmd", "-cd", cd, "experiment=moons"};
    CHECK(run(4, single) == 0 && g_calls == 1);
    char first[512];
    snprintf(first, sizeof first, "%s", g_dirs[0]);
    CHECK(run(4, single) == 0 && g_calls == 1);
    CHECK_MSG(strstr(first, "./outputs/") == first && strcmp(first, g_dirs[0]), "%s vs %s", first, g_dirs[0]);
    CHECK(strlen(first) == strlen("./outputs/YYYY-MM-DD/HH-MM-SS"));
    /* trainer.out_dir wins. */
    const char *fixed[] = {"testcmd", "-cd", cd, "experiment=moons", "trainer.out_dir=runs/${dataset.name}"};
    CHECK(run(5, fixed) == 0 && g_calls == 1 && !strcmp(g_dirs[0], "runs/moons") && exists("runs/moons/.hydra/overrides.yaml"));
    /* --cfg job prints and calls nothing; a config error returns 2 before any job runs. */
    const char *print[] = {"testcmd", "-cd", cd, "experiment=moons", "--cfg", "job"};
    FILE *out = stdout;
    stdout = fopen("/dev/null", "w");
    CHECK(run(6, print) == 0 && g_calls == 0);
    fclose(stdout);
    stdout = out;
    const char *bad[] = {"testcmd", "-cd", cd, "-m", "experiment=moons", "optim.lr=1e-3,-1"};
    FILE *err = stderr;
    stderr = fopen("/dev/null", "w");
    CHECK(run(6, bad) == 2 && g_calls == 0); /* job 1 is invalid: no job runs */
    const char *typo[] = {"testcmd", "-cd", cd, "optim.lrr=1"};
    CHECK(run(4, typo) == 2 && g_calls == 0);
    const char *world[] = {"testcmd", "-cd", cd, "dataset.batch_size=100"};
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    CHECK(tf_job_world_size() == 3);
    CHECK(run(4, world) == 2 && g_calls == 0);
    unsetenv("OMPI_COMM_WORLD_SIZE");
    CHECK(tf_job_world_size() == 1);
    fclose(stderr);
    stderr = err;
}

static void test_find_config_dir(void) {
    char out[4096];
    setenv("TINYFLOW_CONFIG_DIR", "/some/where", 1);
    tf_job_find_config_dir(out, sizeof out);
    CHECK(!strcmp(out, "/some/where"));
    unsetenv("TINYFLOW_CONFIG_DIR");
    tf_job_find_config_dir(out, sizeof out); /* cwd is a temp folder: found next to the test binary? */
    CHECK(out[0] == '\0' || strstr(out, "configs"));
}

int main(void) {
    char src[1024];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *cut = strstr(src, "tests/unit/");
    if (!cut) return 77;
    *cut = '\0';
    snprintf(g_configs, sizeof g_configs, "%sconfigs", src);
    char tmp[] = "/tmp/tf_test_cli_job_XXXXXX", cwd[1024];
    if (!mkdtemp(tmp) || !getcwd(cwd, sizeof cwd) || chdir(tmp)) return 1;
    test_parse();
    test_runs();
    test_find_config_dir();
    if (chdir(cwd)) return 1;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    return tf_test_finish("test_cli_job");
}
