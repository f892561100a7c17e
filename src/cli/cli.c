/* cli.c - dispatch `tinyflow <command>` to the command's entry point, print usage. */
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
    {"info", tf_cmd_info, "version, GEMM provider and its ISA, threads, MPI library, CUDA"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: tinyflow <command> [options] [overrides]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(out, "\n`tinyflow <command> --help` describes one command.\n");
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
