/* cli.c - dispatch `tinyflow <command>` to the command's entry point, print usage.
 * Knows the command table only; each command parses its own arguments. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} TfCommand;

static const TfCommand k_commands[] = {
    {"train", tf_cmd_train, "train a flow-matching model (data-parallel over MPI ranks)"},
    {"sample", tf_cmd_sample, "draw samples from a checkpoint with an ODE solver"},
    {"fid", tf_cmd_fid, "Frechet distance of samples to the data"},
    {"classifier", tf_cmd_classifier, "train the feature classifier for fid"},
    {"likelihood", tf_cmd_likelihood, "exact log-likelihood through the ODE"},
    {"data", tf_cmd_data, "fetch a dataset, describe it, or verify its files"},
    {"info", tf_cmd_info, "version, GEMM provider and its ISA, threads, MPI library, CUDA"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: tinyflow <command> [options] [overrides]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(out, "\n`tinyflow <command> --help` describes one command, with examples.\n"
                 "Config-driven commands take Hydra-style overrides: tinyflow train experiment=moons optim.lr=1e-3\n"
                 "Exit codes: 0 success, 2 usage or config error, 1 other failures.\n");
}

int tf_cli_main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return TF_EXIT_USAGE; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return TF_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name)) return k_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tinyflow: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return TF_EXIT_USAGE;
}
