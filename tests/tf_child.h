/* tf_child.h - test helpers shared by the unit tests:
 *   tf_child_run  runs fn(arg) in a forked child with its stderr captured, and returns the
 *                 child's exit code (128 + signal when it was killed), so a test can check that
 *                 a function that must end the program does so with the right code and message;
 *   tf_clear_dir  removes the files of a flat temporary directory, tf_rm_dir also the directory. */
#ifndef TF_CHILD_H
#define TF_CHILD_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*TfChildFn)(const void *arg);

static inline int tf_child_run(TfChildFn fn, const void *arg, char *out, size_t cap) {
    int fds[2];
    if (pipe(fds)) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t r;
    while (used + 1 < cap && (r = read(fds[0], out + used, cap - 1 - used)) > 0) used += (size_t)r;
    if (cap) out[used] = '\0';
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* Remove the files of a flat directory (the directory stays). */
static inline void tf_clear_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char p[4096];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    closedir(d);
}

static inline void tf_rm_dir(const char *dir) {
    tf_clear_dir(dir);
    rmdir(dir);
}

#endif
