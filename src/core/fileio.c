/* fileio.c - see fileio.h. Knows nothing about what is written. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *tf_fopen_new(const char *path) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            if (!f) close(fd);
            return f;
        }
        struct stat st;
        if (errno != EEXIST || attempt || lstat(path, &st) != 0) return NULL;
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) { errno = EEXIST; return NULL; }
        if (unlink(path) != 0) return NULL;
    }
    return NULL;
}
