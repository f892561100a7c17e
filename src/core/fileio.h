/* fileio.h - creating a file at a name without ever following a symlink there: the first step
 * of every temp-file + fsync + rename save (eval's .npy/.npz/statistics writers; track/ has its
 * own die-on-failure variant). Knows nothing about what is written. */
#ifndef TF_CORE_FILEIO_H
#define TF_CORE_FILEIO_H

#include <stdio.h>

/* A new file at path (a writer's own temp name), opened for writing with O_CREAT|O_EXCL|
 * O_NOFOLLOW; a stale regular file or planted link at that name is unlinked (the entry, never
 * its target) and the create retried once. NULL with errno set on failure (EEXIST when a
 * directory or device is there). */
FILE *tf_fopen_new(const char *path);

#endif
