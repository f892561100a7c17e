/* job.h - what every config-driven command (train, sample, fid, classifier, likelihood)
 * shares: Hydra's flags (-m, --cfg job, --resolve, -cd, -cn), config composition and
 * validation per sweep job, and the run directory outputs/YYYY-MM-DD/HH-MM-SS/ with
 * .hydra/config.yaml and .hydra/overrides.yaml. Rank 0 chooses the directory and
 * broadcasts it when MPI is initialised with more than one rank.
 * This layer knows about MPI and configs, not about what a command computes. */
#ifndef TF_CLI_JOB_H
#define TF_CLI_JOB_H

#include <stddef.h>

#include "config/config.h"

typedef struct {
    char config_dir[4096];
    char config_name[256];
    int multirun;     /* -m / --multirun */
    int print_cfg;    /* --cfg job */
    int resolve;      /* --resolve (with --cfg job) */
    int n_overrides;
    const char **overrides; /* points into argv */
} TfJobArgs;

/* One command's job: called once per sweep job with the validated config and, when the
 * command asked for one, its run directory (NULL otherwise). Returns an exit code. */
typedef int (*TfJobFn)(const TfCfg *cfg, const char *run_dir, void *ctx);

typedef struct {
    const char *name;    /* "train" */
    const char *summary; /* one line */
    const char *help;    /* what it does, options, examples */
    TfJobFn fn;
    int make_run_dir;    /* create outputs/... with .hydra/ before calling fn */
} TfJobCommand;

/* Parse argv (argv[0] = the command name). Returns -1 when parsing succeeded, otherwise the
 * exit code to return (0 after --help, 2 after a usage error, with the message printed). */
int tf_job_parse_args(const TfJobCommand *cmd, int argc, char **argv, TfJobArgs *out);

/* Expand sweeps; compose and validate every job (for the current world size) before running
 * any; then per job print it (--cfg job) or make its run directory and call cmd->fn, in
 * order. Stops at the first failing job. */
int tf_job_run(const TfJobCommand *cmd, const TfJobArgs *args);

/* A command's main(): parse, then run. */
int tf_job_main(const TfJobCommand *cmd, int argc, char **argv);

/* The config folder: --config-dir, $TINYFLOW_CONFIG_DIR, ./configs, or next to the executable
 * (EXE/../configs, EXE/../share/tinyflow/configs). Empty when none is found. */
void tf_job_find_config_dir(char *out, size_t cap);

/* The world size: MPI's when initialised, else the launcher's environment
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE), else 1. */
int tf_job_world_size(void);

/* Choose (rank 0) and broadcast the run directory: trainer.out_dir when set, else
 * outputs/DATE/TIME[_k]/ for a single run or multirun/DATE/TIME/JOB/ in a sweep
 * (sweep_root holds DATE/TIME for the whole sweep, chosen at job 0). Creates it and
 * .hydra/config.yaml + .hydra/overrides.yaml (atomic writes, rank 0 only).
 * base = the folder that holds outputs/ and multirun/ (normally "."). */
int tf_job_make_run_dir(const TfCfg *cfg, const char *const *overrides, int n_overrides, const char *base,
                        int multirun, size_t job_num, char *sweep_root, size_t sweep_cap, char *out, size_t cap,
                        TfCfgError *err);

#endif
