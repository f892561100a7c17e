/* save.c - write one checkpoint atomically and mark it complete.
 *
 * Sequence (each step a named fault point, see fault.c):
 *   open    openat(dir, step_N.ckpt.tmp, O_CREAT|O_EXCL|O_NOFOLLOW); a stale file or a planted
 *           symlink at that name is unlinked (the link, never its target) and the open retried
 *   write   header, manifest record, per tensor a TensorRecord + its payload, footer
 *   fsync   fsync the temp file;  close  close it
 *   rename  renameat to step_N.ckpt (an older marker of the same step is removed first)
 *   dirsync fsync the directory
 *   mark    step_N.done.tmp the same way, fsync, rename to step_N.done, fsync the directory
 * Any failure removes what this save created and returns -1; earlier checkpoints are never
 * touched. Knows nothing about models, optimizers or MPI (the caller is rank 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.pb-c.h" /* generated from proto/checkpoint.proto */
#include "ckpt/ckpt_internal.h"

#ifndef TF_VERSION
#define TF_VERSION "unknown"
#endif

typedef Tinyflow__Ckpt__TensorInfo PbInfo;

// --- checked syscalls ----------------------------------------------------------------------
/* 0, or the errno of the failure (injected or real). */
static int write_all(int fd, const void *buf, size_t n) {
    int e = tf_ckpt_fault(TF_FAULT_WRITE);
    if (e) return e;
    const unsigned char *p = buf;
    while (n) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        if (w == 0) return EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Create dir/name exclusively, never through a symlink. A regular file or symlink already
 * there (a crashed save's leftover, or a planted link) is unlinked - the entry itself, not
 * what it points to - and the open retried once. Returns fd, or -1 with errno set. */
static int open_exclusive(int dirfd, const char *name, int *removed_stale) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST || attempt) return fd;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
            errno = EEXIST; /* a directory or device there: refuse, do not remove */
            return -1;
        }
        if (unlinkat(dirfd, name, 0) != 0) return -1;
        *removed_stale = 1;
    }
    return -1;
}

static int write_frame(int fd, const unsigned char *payload, size_t n) {
    unsigned char *buf = malloc(TF_CKPT_FRAME_BYTES + n);
    if (!buf) return ENOMEM;
    tf_put_le32(buf, (uint32_t)n);
    tf_put_le32(buf + 4, tf_crc32c_extend(0, payload, n));
    memcpy(buf + TF_CKPT_FRAME_BYTES, payload, n);
    int e = write_all(fd, buf, TF_CKPT_FRAME_BYTES + n);
    free(buf);
    return e;
}

// --- input validation ----------------------------------------------------------------------
static int cmp_name_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_inputs(const TfCkptMeta *m, const TfCkptTensor *t, int n, uint64_t *payload, char *err,
                        size_t cap) {
    if (!m || !m->arch || !m->config_text) return tf_ckpt_fail(err, cap, "checkpoint save: meta, arch and config_text are required");
    size_t al = strlen(m->arch);
    if (al == 0 || al > 64) return tf_ckpt_fail(err, cap, "checkpoint save: architecture name must have 1..64 bytes");
    for (size_t i = 0; i < al; i++)
        if ((unsigned char)m->arch[i] <= 0x20 || (unsigned char)m->arch[i] >= 0x7f)
            return tf_ckpt_fail(err, cap, "checkpoint save: architecture name has a non-printable byte");
    if (strlen(m->config_text) > TF_CKPT_MAX_CONFIG_BYTES)
        return tf_ckpt_fail(err, cap, "checkpoint save: config text over %u bytes", TF_CKPT_MAX_CONFIG_BYTES);
    if (n < 0 || n > TF_CKPT_MAX_TENSORS || (n && !t))
        return tf_ckpt_fail(err, cap, "checkpoint save: %d tensors (0..%d allowed)", n, TF_CKPT_MAX_TENSORS);
    uint64_t total = 0;
    char why[256];
    for (int i = 0; i < n; i++) {
        if (!t[i].name || tf_ckpt_check_name(t[i].name, strlen(t[i].name), why, sizeof why))
            return tf_ckpt_fail(err, cap, "checkpoint save: tensor %d: %s", i, t[i].name ? why : "no name");
        if (t[i].ndim < 1 || t[i].ndim > 4)
            return tf_ckpt_fail(err, cap, "checkpoint save: tensor '%s' has ndim %d (1..4)", t[i].name, t[i].ndim);
        uint64_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            if (t[i].shape[d] < 1)
                return tf_ckpt_fail(err, cap, "checkpoint save: tensor '%s' has dim %d = %d", t[i].name, d, t[i].shape[d]);
            if ((uint64_t)t[i].shape[d] > TF_CKPT_MAX_FILE_BYTES / 4 / numel) /* checked before multiplying */
                return tf_ckpt_fail(err, cap, "checkpoint save: tensor '%s' is too large", t[i].name);
            numel *= (uint64_t)t[i].shape[d];
        }
        if (numel != (uint64_t)t[i].numel || !t[i].data)
            return tf_ckpt_fail(err, cap, "checkpoint save: tensor '%s': numel %zu does not match its shape (%" PRIu64 ") or data is NULL",
                                t[i].name, t[i].numel, numel);
        total += numel * 4;
        if (total > TF_CKPT_MAX_FILE_BYTES) return tf_ckpt_fail(err, cap, "checkpoint save: tensors exceed the 1 TiB file cap");
    }
    if (n > 1) {
        const char **names = malloc((size_t)n * sizeof *names);
        if (!names) return tf_ckpt_fail(err, cap, "checkpoint save: out of memory");
        for (int i = 0; i < n; i++) names[i] = t[i].name;
        qsort(names, (size_t)n, sizeof *names, cmp_name_ptr);
        for (int i = 1; i < n; i++)
            if (strcmp(names[i - 1], names[i]) == 0) {
                int r = tf_ckpt_fail(err, cap, "checkpoint save: tensor name '%s' appears twice", names[i]);
                free(names);
                return r;
            }
        free(names);
    }
    *payload = total;
    return 0;
}

// --- the file ------------------------------------------------------------------------------
static void fill_info(PbInfo *pi, uint32_t *shape, const TfCkptTensor *t, uint32_t crc) {
    tinyflow__ckpt__tensor_info__init(pi);
    for (int d = 0; d < t->ndim; d++) shape[d] = (uint32_t)t->shape[d];
    pi->name = (char *)t->name;
    pi->n_shape = (size_t)t->ndim;
    pi->shape = shape;
    pi->dtype = TINYFLOW__CKPT__DTYPE__DTYPE_F32;
    pi->nbytes = (uint64_t)t->numel * 4;
    pi->crc32c = crc;
}

/* Write the whole checkpoint to fd. 0, or an errno; *what says which part failed. */
static int write_body(int fd, const TfCkptMeta *m, const TfCkptTensor *t, int n, uint64_t payload,
                      const char **what) {
    int e = 0;
    PbInfo *infos = calloc((size_t)n + 1, sizeof *infos);
    PbInfo **ptrs = calloc((size_t)n + 1, sizeof *ptrs);
    uint32_t(*shapes)[4] = calloc((size_t)n + 1, sizeof *shapes);
    unsigned char *mbuf = NULL, *rbuf = malloc(TF_CKPT_MAX_RECORD_BYTES);
    *what = "allocating the manifest";
    if (!infos || !ptrs || !shapes || !rbuf) { e = ENOMEM; goto out; }
    for (int i = 0; i < n; i++) {
        fill_info(&infos[i], shapes[i], &t[i], tf_crc32c_extend(0, t[i].data, t[i].numel * 4));
        ptrs[i] = &infos[i];
    }
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, tf_ckpt_config_hash(m->config_text));
    Tinyflow__Ckpt__Manifest man = TINYFLOW__CKPT__MANIFEST__INIT;
    man.format_version = TF_CKPT_FORMAT_VERSION;
    man.tinyflow_version = (char *)TF_VERSION;
    man.config_text = (char *)m->config_text;
    man.config_hash = hash;
    man.arch = (char *)m->arch;
    man.step = m->step;
    man.epoch = m->epoch;
    man.loader_cursor = m->loader_cursor;
    man.seed = m->seed;
    man.rng_key = m->rng_key;
    man.skipped_steps = m->skipped_steps;
    man.consecutive_skips = m->consecutive_skips;
    man.world_size = m->world_size;
    man.train_seconds = m->train_seconds;
    man.saved_unix = (double)time(NULL);
    man.n_tensors = (size_t)n;
    man.tensors = ptrs;
    size_t mlen = tinyflow__ckpt__manifest__get_packed_size(&man);
    *what = "packing the manifest";
    if (mlen > TF_CKPT_MAX_MANIFEST_BYTES) { e = EFBIG; goto out; }
    if (!(mbuf = malloc(mlen ? mlen : 1))) { e = ENOMEM; goto out; }
    if (tinyflow__ckpt__manifest__pack(&man, mbuf) != mlen) { e = EINVAL; goto out; }

    unsigned char head[TF_CKPT_HEADER_BYTES];
    memcpy(head, TF_CKPT_MAGIC, TF_CKPT_MAGIC_BYTES);
    tf_put_le32(head + 8, TF_CKPT_FORMAT_VERSION);
    tf_put_le32(head + 12, tf_crc32c_extend(0, head, 12));
    *what = "writing the header";
    if ((e = write_all(fd, head, sizeof head))) goto out;
    *what = "writing the manifest";
    if ((e = write_frame(fd, mbuf, mlen))) goto out;
    uint64_t offset = TF_CKPT_HEADER_BYTES + TF_CKPT_FRAME_BYTES + mlen;
    for (int i = 0; i < n; i++) {
        Tinyflow__Ckpt__TensorRecord rec = TINYFLOW__CKPT__TENSOR_RECORD__INIT;
        rec.index = (uint32_t)i;
        rec.info = &infos[i];
        size_t rlen = tinyflow__ckpt__tensor_record__get_packed_size(&rec);
        *what = "writing a tensor record";
        if (rlen > TF_CKPT_MAX_RECORD_BYTES) { e = EFBIG; goto out; }
        tinyflow__ckpt__tensor_record__pack(&rec, rbuf);
        if ((e = write_frame(fd, rbuf, rlen))) goto out;
        *what = "writing tensor data";
        if ((e = write_all(fd, t[i].data, t[i].numel * 4))) goto out;
        offset += TF_CKPT_FRAME_BYTES + rlen + t[i].numel * 4;
    }
    Tinyflow__Ckpt__Footer foot = TINYFLOW__CKPT__FOOTER__INIT;
    foot.tensor_count = (uint32_t)n;
    foot.manifest_crc32c = tf_crc32c_extend(0, mbuf, mlen);
    foot.payload_bytes = payload;
    foot.footer_offset = offset;
    unsigned char fbuf[TF_CKPT_MAX_FOOTER_BYTES];
    size_t flen = tinyflow__ckpt__footer__pack(&foot, fbuf);
    *what = "writing the footer";
    e = write_frame(fd, fbuf, flen);
out:
    free(infos);
    free(ptrs);
    free(shapes);
    free(mbuf);
    free(rbuf);
    return e;
}

/* Write dir/<name>.done.tmp with the marker text and rename it to .done. 0 or errno. */
static int write_marker(int dirfd, uint64_t step, uint64_t bytes, const char **what) {
    char tmp[64], done[64], fin[64], text[256];
    tf_ckpt_file_name(tmp, sizeof tmp, step, TF_CKPT_DONE_TMP);
    tf_ckpt_file_name(done, sizeof done, step, TF_CKPT_DONE);
    tf_ckpt_file_name(fin, sizeof fin, step, TF_CKPT_FILE);
    int e = tf_ckpt_fault(TF_FAULT_MARK), stale = 0;
    *what = "creating the completion marker";
    if (e) return e;
    int fd = open_exclusive(dirfd, tmp, &stale);
    if (fd < 0) return errno;
    int len = snprintf(text, sizeof text, "tinyflow checkpoint complete\nfile %s\nstep %" PRIu64 "\nbytes %" PRIu64 "\n",
                       fin, step, bytes);
    e = write_all(fd, text, (size_t)len);
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && renameat(dirfd, tmp, dirfd, done) != 0) e = errno;
    if (e) {
        (void)unlinkat(dirfd, tmp, 0); /* best effort; a stale .done.tmp is never read */
        return e;
    }
    *what = "syncing the directory after the marker";
    if (fsync(dirfd) != 0) return errno;
    return 0;
}

int tf_ckpt_save(const char *dir, const TfCkptMeta *meta, const TfCkptTensor *t, int n, char *path_out,
                 size_t path_cap, char *err, size_t cap) {
    uint64_t payload = 0;
    if (!dir) return tf_ckpt_fail(err, cap, "checkpoint save: no directory given");
    if (check_inputs(meta, t, n, &payload, err, cap)) return -1;
    char tmp[64], fin[64], done[64];
    tf_ckpt_file_name(tmp, sizeof tmp, meta->step, TF_CKPT_FILE_TMP);
    tf_ckpt_file_name(fin, sizeof fin, meta->step, TF_CKPT_FILE);
    tf_ckpt_file_name(done, sizeof done, meta->step, TF_CKPT_DONE);
    if (path_out && path_cap) snprintf(path_out, path_cap, "%s/%s", dir, fin);

    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return tf_ckpt_fail(err, cap, "checkpoint save: cannot open directory '%s': %s", dir, strerror(errno));
    const char *what = "creating the temp file";
    const char *leftover = NULL; /* the name to remove on failure */
    int stale = 0, replaced = 0, e = tf_ckpt_fault(TF_FAULT_OPEN), fd = -1;
    if (!e) {
        fd = open_exclusive(dirfd, tmp, &stale);
        if (fd < 0) e = errno;
    }
    if (e) goto fail;
    leftover = tmp;
    if ((e = write_body(fd, meta, t, n, payload, &what))) goto fail;
    what = "fsync of the temp file";
    if ((e = tf_ckpt_fault(TF_FAULT_FSYNC)) || (fsync(fd) != 0 && (e = errno))) goto fail;
    struct stat st;
    what = "stat of the temp file";
    if (fstat(fd, &st) != 0) { e = errno; goto fail; }
    what = "close of the temp file";
    e = tf_ckpt_fault(TF_FAULT_CLOSE);
    if (close(fd) != 0 && !e) e = errno;
    fd = -1;
    if (e) goto fail;
    /* A complete checkpoint of this step is being replaced: unmark it first, so no crash
     * from here on can leave a marker that vouches for a file it does not describe. */
    what = "removing the old marker of this step";
    if (unlinkat(dirfd, done, 0) == 0) {
        replaced = 1;
        if (fsync(dirfd) != 0) { e = errno; goto fail; }
    } else if (errno != ENOENT) { e = errno; goto fail; }
    what = "rename to the final name";
    if ((e = tf_ckpt_fault(TF_FAULT_RENAME)) || (renameat(dirfd, tmp, dirfd, fin) != 0 && (e = errno))) goto fail;
    leftover = fin;
    what = "fsync of the directory";
    if ((e = tf_ckpt_fault(TF_FAULT_DIRSYNC)) || (fsync(dirfd) != 0 && (e = errno))) goto fail;
    if ((e = write_marker(dirfd, meta->step, (uint64_t)st.st_size, &what))) goto fail;
    close(dirfd);
    return 0;
fail:
    if (fd >= 0) close(fd);
    if (leftover) {
        /* After the rename the marker may exist (its directory sync failed): remove it first. */
        if (leftover == fin) (void)unlinkat(dirfd, done, 0);
        (void)unlinkat(dirfd, leftover, 0); /* best effort: an unmarked file is never loaded anyway */
        (void)fsync(dirfd);
    }
    close(dirfd);
    return tf_ckpt_fail(err, cap, "checkpoint save to '%s/%s' failed while %s: %s (nothing was marked complete; "
                        "earlier checkpoints are untouched%s)%s", dir, fin, what, strerror(e),
                        replaced ? ", except the one of this same step, which is no longer complete" : "",
                        stale ? " [a stale temp file or symlink at the temp name was removed]" : "");
}
