/* main.c - the tinyflow executable: hands the command line to the CLI layer. */
#include "cli/cli.h"

int main(int argc, char **argv) { return tf_cli_main(argc, argv); }
