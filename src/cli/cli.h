/* cli.h - `tinyflow <command> [overrides]`: the command table and each command's entry.
 * Commands parse their own arguments; exit codes follow core/check.h (0 ok, 2 usage). */
#ifndef TF_CLI_H
#define TF_CLI_H

int tf_cli_main(int argc, char **argv);

/* One entry per subcommand (cmd_<name>.c); argv[0] is the command's name. */
int tf_cmd_info(int argc, char **argv);
int tf_cmd_data(int argc, char **argv);       /* cmd_data.c */
int tf_cmd_train(int argc, char **argv);      /* cmd_config.c (config-driven commands) */
int tf_cmd_sample(int argc, char **argv);
int tf_cmd_fid(int argc, char **argv);
int tf_cmd_classifier(int argc, char **argv);
int tf_cmd_likelihood(int argc, char **argv);

#endif
