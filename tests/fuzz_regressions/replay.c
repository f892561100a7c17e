/* replay.c - main() for the replay test: feeds files to a fuzz target's
 * LLVMFuzzerTestOneInput (fuzz/fuzz_<target>.c) in a normal, non-libFuzzer build, so CI
 * re-runs every seed (fuzz/corpus/<target>/) and every past crash
 * (tests/fuzz_regressions/<target>/) without clang's fuzzer runtime. Arguments are files or
 * directories (their regular files, in name order; dot files skipped). A crash, a failed
 * check in the target (abort) or a tf_die() reached from a parser fails the test; the name
 * of the input being run is printed first when that happens. Exit 0 when all inputs ran,
 * 2 on usage or I/O errors. Memory: under ASan an allocation over 1 GiB is an error (as the
 * fuzzers' -malloc_limit_mb=1024), so size-cap regressions fail here too; without ASan the
 * data segment is limited to 4 GiB (a huge allocation then fails inside the parser instead). */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

#if defined(__SANITIZE_ADDRESS__)
#define TF_REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TF_REPLAY_ASAN 1
#endif
#endif

#ifdef TF_REPLAY_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "max_allocation_size_mb=1024:allocator_may_return_null=0"; }
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

static char g_current[4096];

#ifdef TF_REPLAY_ASAN
static void on_sanitizer_death(void) { fprintf(stderr, "\nreplay: sanitizer report on input: %s\n", g_current); }
#endif

static void on_fatal(int sig) {
    static const char pre[] = "\nreplay: crashed on input: ";
    ssize_t ignored = write(2, pre, sizeof pre - 1);
    ignored = write(2, g_current, strlen(g_current));
    ignored = write(2, "\n", 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; }
            b = nb;
        }
    }
    int bad = !b || ferror(f);
    fclose(f);
    if (bad) { fprintf(stderr, "replay: cannot read %s\n", path); free(b); return -1; }
    snprintf(g_current, sizeof g_current, "%s", path);
    if (getenv("TF_REPLAY_VERBOSE")) fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    /* A copy of exactly n bytes, so ASan (when on) sees reads past the end. */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact) { free(b); return -1; }
    if (n) memcpy(exact, b, n);
    free(b);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    if (!d) { perror(dir); return -1; }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        if (!stat(p, &st) && S_ISREG(st.st_mode)) {
            if (run_file(p)) rc = -1;
            else ++*count;
        }
        free(names[k]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
#ifdef TF_REPLAY_ASAN
    __sanitizer_set_death_callback(on_sanitizer_death);
#else
    struct rlimit rl = {(rlim_t)4 << 30, (rlim_t)4 << 30};
    struct rlimit cur;
    if (getrlimit(RLIMIT_DATA, &cur) == 0 && (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur > rl.rlim_cur)) {
        if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < rl.rlim_max) rl.rlim_max = rl.rlim_cur = cur.rlim_max;
        (void)setrlimit(RLIMIT_DATA, &rl);
    }
#endif
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    signal(SIGILL, on_fatal);
    int count = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) continue; /* an absent folder: nothing to replay there */
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i]) ? -1 : (count++, 0)) rc = 2;
    }
    printf("replay %s: %d inputs ran without a crash\n", argv[0], count);
    return rc;
}
