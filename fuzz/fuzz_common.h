/* fuzz_common.h - what every libFuzzer target of fuzz/ shares: the entry-point prototypes,
 * a memfd (or per-process temp file) that holds the current input for readers that take a
 * path, and a tf_die() trap.
 *
 * The targets call only error-return APIs. tf_die() is the program's one exit path, so any
 * tf_die() reached from an input is a finding ("this error-return parser ends the process on
 * bad input"): tf_fuzz_init() installs an abort hook that prints a marker and abort()s, which
 * libFuzzer reports as a crash and the replay test (tests/fuzz_regressions) as a failure.
 * Knows nothing about the parsers themselves. */
#ifndef TF_FUZZ_COMMON_H
#define TF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point (also called by tests/fuzz_regressions/replay.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process: the tf_die() trap. Cheap to call on every input. */
void tf_fuzz_init(void);

/* A path (/proc/self/fd/N of a memfd, or a temp file of this process) whose contents are
 * exactly data[0..size). slot 0..3 selects one of four independent files. The path stays
 * valid until the next call with the same slot. */
const char *tf_fuzz_file(int slot, const uint8_t *data, size_t size);

/* data[0..size) as a malloc'd NUL-terminated string (embedded NULs end it early). */
char *tf_fuzz_cstr(const uint8_t *data, size_t size);

/* Source tree's configs/ folder (compiled in; TINYFLOW_CONFIG_DIR overrides). */
const char *tf_fuzz_config_dir(void);

#endif
