/* cli.h - `tinyflow <command> [overrides]`: the command table and each command's entry.
 * Commands parse their own arguments; exit codes follow core/check.h (0 ok, 2 usage). */
#ifndef TF_CLI_H
#define TF_CLI_H

int tf_cli_main(int argc, char **argv);

/* One entry per subcommand (cmd_<name>.c). */
int tf_cmd_info(int argc, char **argv);

#endif
