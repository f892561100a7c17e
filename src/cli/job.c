/* job.c - Hydra-style command handling shared by the config-driven commands (job.h):
 * flags, sweeps, compose + validate, --cfg job, run directories broadcast over MPI.
 * Knows nothing about what the commands compute. */
#include "cli/job.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"

static int usage_error(const TfJobCommand *cmd, const char *fmt, const char *arg) {
    fprintf(stderr, "tinyflow %s: ", cmd->name);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n  hint: `tinyflow %s --help` shows the options\n", cmd->name);
    return TF_EXIT_USAGE;
}

static const char k_common_help[] =
    "\nConfig options (Hydra conventions):\n"
    "  KEY=VALUE          change a value (the key must exist), e.g. optim.lr=1e-3\n"
    "  +KEY=VALUE         add a key;  ++KEY=VALUE  add or change;  ~KEY  delete\n"
    "  GROUP=OPTION       pick a config group option, e.g. model=mlp dataset=moons experiment=moons\n"
    "  -m, --multirun     run comma sweeps one after another: optim.lr=1e-3,3e-4 (also choice(), range())\n"
    "  --cfg job          print the composed config and exit (--resolve resolves ${...})\n"
    "  -cd, --config-dir DIR   config folder (default: $TINYFLOW_CONFIG_DIR, ./configs, or next to the binary)\n"
    "  -cn, --config-name NAME primary config file (default: config)\n"
    "Values: null, true/false, 10, 1e-3, 'quoted', [1,2], {a:1}, ${other.key}, ${oc.env:VAR,default}.\n"
    "Each run gets outputs/YYYY-MM-DD/HH-MM-SS/ (multirun/.../N/ in a sweep) with .hydra/config.yaml\n"
    "and .hydra/overrides.yaml; every key is listed in docs/config.md.\n";

int tf_job_parse_args(const TfJobCommand *cmd, int argc, char **argv, TfJobArgs *a) {
    memset(a, 0, sizeof *a);
    a->overrides = (const char **)tf_calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->overrides);
    snprintf(a->config_name, sizeof a->config_name, "config");
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            printf("%s%s", cmd->help, k_common_help);
            return TF_EXIT_OK;
        } else if (!strcmp(s, "-m") || !strcmp(s, "--multirun")) {
            a->multirun = 1;
        } else if (!strcmp(s, "--resolve")) {
            a->resolve = 1;
        } else if (!strcmp(s, "--cfg") || !strcmp(s, "-c")) {
            if (!has_next) return usage_error(cmd, "%s needs a value (job)", s);
            if (strcmp(argv[++i], "job"))
                return usage_error(cmd, "--cfg %s is not supported (only --cfg job: there is no hydra config)", argv[i]);
            a->print_cfg = 1;
        } else if (!strcmp(s, "-cd") || !strcmp(s, "--config-dir") || !strcmp(s, "--config-path") || !strcmp(s, "-cp")) {
            if (!has_next) return usage_error(cmd, "%s needs a folder", s);
            snprintf(a->config_dir, sizeof a->config_dir, "%s", argv[++i]);
        } else if (!strcmp(s, "-cn") || !strcmp(s, "--config-name")) {
            if (!has_next) return usage_error(cmd, "%s needs a name", s);
            snprintf(a->config_name, sizeof a->config_name, "%s", argv[++i]);
            size_t L = strlen(a->config_name);
            if (L > 5 && !strcmp(a->config_name + L - 5, ".yaml")) a->config_name[L - 5] = '\0';
        } else if (s[0] == '-') {
            return usage_error(cmd, "unknown option '%s'", s);
        } else {
            a->overrides[a->n_overrides++] = s;
        }
    }
    if (a->resolve && !a->print_cfg) return usage_error(cmd, "%s only works with --cfg job", "--resolve");
    if (!a->config_dir[0]) tf_job_find_config_dir(a->config_dir, sizeof a->config_dir);
    if (!a->config_dir[0])
        return usage_error(cmd, "%s", "no config folder found: pass --config-dir DIR or set TINYFLOW_CONFIG_DIR");
    return -1;
}

static int has_config(const char *dir) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    return !stat(p, &st);
}

void tf_job_find_config_dir(char *out, size_t cap) {
    out[0] = '\0';
    const char *env = getenv("TINYFLOW_CONFIG_DIR");
    if (env && env[0]) { snprintf(out, cap, "%s", env); return; }
    if (has_config("configs")) { snprintf(out, cap, "configs"); return; }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0';
    static const char *rel[] = {"/../configs", "/../share/tinyflow/configs", "/configs"};
    for (size_t k = 0; k < sizeof rel / sizeof rel[0]; k++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, "%s%s", exe, rel[k]);
        if (has_config(cand)) {
            snprintf(out, cap, "%s", cand);
            return;
        }
    }
}

int tf_job_world_size(void) {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        return size;
    }
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
        const char *v = getenv(vars[k]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return 1;
}

static int mkdirs(const char *path, TfCfgError *err) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return tf_cfg_fail(err, NULL, "path too long: '%s'", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST) return tf_cfg_fail(err, NULL, "cannot create '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return tf_cfg_fail(err, NULL, "cannot create '%s': %s", buf, strerror(errno));
    return 0;
}

static int mpi_world(int *rank) {
    int init = 0, fin = 0, size = 1;
    *rank = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin) return 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

/* Rank 0's choice of the run directory (and its creation); "" + err on failure. */
static int choose_dir(const TfCfg *cfg, const char *const *ovs, int n_ovs, const char *base, int multirun,
                      size_t job_num, char *sweep_root, size_t sweep_cap, char *out, size_t cap, TfCfgError *err) {
    char stamp[64];
    time_t t = time(NULL);
    struct tm tmv;
    localtime_r(&t, &tmv);
    strftime(stamp, sizeof stamp, "%Y-%m-%d/%H-%M-%S", &tmv);
    const TfCfgNode *od = tf_node_find(tf_cfg_root(cfg), "trainer.out_dir");
    TfCfgNode *res = NULL;
    if (od && od->type != TF_NODE_NULL) {
        if (tf_cfg_resolve_node(tf_cfg_root(cfg), od, "trainer.out_dir", &res, err)) return -1;
        if (res->type != TF_NODE_STR) { tf_node_free(res); return tf_cfg_fail(err, NULL, "trainer.out_dir must be a string"); }
        if (multirun) snprintf(out, cap, "%s/%zu", res->s, job_num);
        else snprintf(out, cap, "%s", res->s);
        tf_node_free(res);
    } else if (multirun) {
        if (job_num == 0 || !sweep_root[0]) snprintf(sweep_root, sweep_cap, "%s/multirun/%s", base, stamp);
        snprintf(out, cap, "%s/%zu", sweep_root, job_num);
    } else {
        snprintf(out, cap, "%s/outputs/%s", base, stamp);
        struct stat st;
        for (int k = 1; !stat(out, &st) && k < 1000; k++) snprintf(out, cap, "%s/outputs/%s_%d", base, stamp, k);
    }
    char hydra[4200], path[4300];
    if (snprintf(hydra, sizeof hydra, "%s/.hydra", out) >= (int)sizeof hydra)
        return tf_cfg_fail(err, NULL, "run directory path too long");
    if (mkdirs(hydra, err)) return -1;
    snprintf(path, sizeof path, "%s/config.yaml", hydra);
    if (tf_cfg_save(cfg, path, err)) return -1;
    snprintf(path, sizeof path, "%s/overrides.yaml", hydra);
    return tf_cfg_save_overrides(ovs, n_ovs, path, err);
}

int tf_job_make_run_dir(const TfCfg *cfg, const char *const *ovs, int n_ovs, const char *base, int multirun,
                        size_t job_num, char *sweep_root, size_t sweep_cap, char *out, size_t cap, TfCfgError *err) {
    int rank, world = mpi_world(&rank);
    char dir[4096] = "";
    int rc = 0;
    if (rank == 0) {
        rc = choose_dir(cfg, ovs, n_ovs, base, multirun, job_num, sweep_root, sweep_cap, dir, sizeof dir, err);
        if (rc) dir[0] = '\0';
    }
    if (world > 1) {
        /* Every rank gets rank 0's choice (an empty one means rank 0 failed). */
        MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (!dir[0] && rank != 0) rc = tf_cfg_fail(err, NULL, "rank 0 could not create the run directory");
    }
    snprintf(out, cap, "%s", dir);
    return rc;
}

static void print_error(const TfCfgError *e) {
    fflush(stdout);
    fprintf(stderr, "[rank %d] config error: %s\n", tf_rank(), e->msg);
    if (e->hint[0]) fprintf(stderr, "  hint: %s\n", e->hint);
}

int tf_job_run(const TfJobCommand *cmd, const TfJobArgs *a) {
    TfSweep sw;
    TfCfgError err;
    if (a->multirun) {
        if (tf_sweep_expand(a->overrides, a->n_overrides, &sw, &err)) { print_error(&err); return TF_EXIT_USAGE; }
    } else {
        /* A single job: the overrides as typed (a sweep here is an error from compose). */
        memset(&sw, 0, sizeof sw);
        sw.n_jobs = 1;
        sw.n_overrides = a->n_overrides;
        sw.jobs = tf_calloc(1, sizeof *sw.jobs);
        sw.jobs[0] = tf_calloc((size_t)(a->n_overrides > 0 ? a->n_overrides : 1), sizeof **sw.jobs);
        for (int k = 0; k < a->n_overrides; k++) {
            size_t L = strlen(a->overrides[k]);
            sw.jobs[0][k] = tf_malloc(L + 1);
            memcpy(sw.jobs[0][k], a->overrides[k], L + 1);
        }
    }
    int rc = TF_EXIT_OK, world = tf_job_world_size();
    /* Compose and validate every job before running any: a typo in job 5 of a sweep
     * must not surface hours later. */
    TfCfg **cfgs = tf_calloc(sw.n_jobs, sizeof *cfgs);
    for (size_t j = 0; j < sw.n_jobs; j++) {
        const char *const *ovs = (const char *const *)sw.jobs[j];
        if (tf_cfg_compose(a->config_dir, a->config_name, ovs, sw.n_overrides, &cfgs[j], &err) ||
            tf_cfg_validate(cfgs[j], world, &err)) {
            if (sw.n_jobs > 1) fprintf(stderr, "[rank %d] in sweep job %zu of %zu:\n", tf_rank(), j, sw.n_jobs);
            print_error(&err);
            rc = TF_EXIT_USAGE;
            break;
        }
    }
    char sweep_root[4096] = "";
    for (size_t j = 0; j < sw.n_jobs && rc == TF_EXIT_OK; j++) {
        const char *const *ovs = (const char *const *)sw.jobs[j];
        const TfCfg *cfg = cfgs[j];
        if (a->multirun && tf_rank() == 0) {
            printf("[%s] job %zu/%zu:", cmd->name, j, sw.n_jobs);
            for (int k = 0; k < sw.n_overrides; k++) printf(" %s", ovs[k]);
            printf("\n");
        }
        if (a->print_cfg) {
            if (tf_cfg_dump(cfg, stdout, a->resolve, &err)) { print_error(&err); rc = TF_EXIT_USAGE; }
            continue;
        }
        char run_dir[4096] = "";
        if (cmd->make_run_dir &&
            tf_job_make_run_dir(cfg, ovs, sw.n_overrides, ".", a->multirun, j, sweep_root, sizeof sweep_root, run_dir,
                                sizeof run_dir, &err)) {
            print_error(&err);
            rc = TF_EXIT_FAILURE;
            break;
        }
        rc = cmd->fn(cfg, cmd->make_run_dir ? run_dir : NULL, NULL);
    }
    for (size_t j = 0; j < sw.n_jobs; j++) tf_cfg_destroy(cfgs[j]);
    free(cfgs);
    tf_sweep_free(&sw);
    return rc;
}

int tf_job_main(const TfJobCommand *cmd, int argc, char **argv) {
    TfJobArgs a;
    int rc = tf_job_parse_args(cmd, argc, argv, &a);
    if (rc < 0) rc = tf_job_run(cmd, &a);
    free(a.overrides);
    return rc;
}
