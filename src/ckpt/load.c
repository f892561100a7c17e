/* load.c - parse and validate a checkpoint file; tensor lookup; free.
 *
 * Nothing read from the file is trusted before it is checked: the file size is capped;
 * every record length is capped per kind and must fit in what is left of the file; every
 * record's CRC-32C is verified before protobuf-c sees it; tensor count, names (printable,
 * bounded, unique), shapes (1..4 dims, no overflow) and byte counts (= numel * 4) are checked
 * before anything is allocated from them; each payload's checksum is verified; the footer
 * must vouch for the manifest and end the file. Errors name the file, the record or tensor
 * and what is wrong. No path is ever built from a string read from the file.
 * Knows nothing about models or the trainer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.pb-c.h" /* generated from proto/checkpoint.proto */
#include "ckpt/ckpt_internal.h"

typedef Tinyflow__Ckpt__TensorInfo PbInfo;

typedef struct {
    int fd;
    const char *shown;
    uint64_t size, pos;
    char *err;
    size_t cap;
} Reader;

#define FAIL(r, ...) fail_at((r), __VA_ARGS__)

static int fail_at(Reader *r, const char *fmt, ...) TF_PRINTF(2, 3);
static int fail_at(Reader *r, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tf_ckpt_fail(r->err, r->cap, "checkpoint '%s': %s", r->shown, msg);
}

/* Read exactly n bytes of `what` at the current position. */
static int read_exact(Reader *r, void *buf, uint64_t n, const char *what) {
    if (n > r->size - r->pos)
        return FAIL(r, "truncated: %s needs %" PRIu64 " bytes at offset %" PRIu64 " but the file ends at %" PRIu64
                    " (the save did not finish or the file was cut)", what, n, r->pos, r->size);
    unsigned char *p = buf;
    uint64_t left = n;
    while (left) {
        size_t chunk = left < ((uint64_t)1 << 30) ? (size_t)left : ((size_t)1 << 30);
        ssize_t got = read(r->fd, p, chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return FAIL(r, "read error in %s at offset %" PRIu64 ": %s", what, r->pos, strerror(errno));
        if (got == 0) return FAIL(r, "truncated: the file ended at offset %" PRIu64 " inside %s (it shrank while being read)",
                                  r->pos, what);
        p += got;
        left -= (uint64_t)got;
        r->pos += (uint64_t)got;
    }
    return 0;
}

/* One frame: u32le length (<= max), u32le crc32c, payload. *out is malloc'd. */
static int read_frame(Reader *r, uint32_t max, const char *what, unsigned char **out, uint32_t *len, uint32_t *crc) {
    unsigned char h[TF_CKPT_FRAME_BYTES];
    *out = NULL;
    uint64_t at = r->pos;
    if (read_exact(r, h, sizeof h, what)) return -1;
    *len = tf_get_le32(h);
    *crc = tf_get_le32(h + 4);
    if (*len > max)
        return FAIL(r, "%s at offset %" PRIu64 " claims %u bytes, over the %u-byte limit for it (corrupt or not a checkpoint)",
                    what, at, *len, max);
    if (!(*out = malloc(*len ? *len : 1))) return FAIL(r, "out of memory reading %s", what);
    if (read_exact(r, *out, *len, what)) return -1;
    uint32_t got = tf_crc32c_extend(0, *out, *len);
    if (got != *crc)
        return FAIL(r, "%s at offset %" PRIu64 " is corrupted: checksum 0x%08x, stored 0x%08x", what, at, got, *crc);
    return 0;
}

static int printable(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

static int cmp_by_name(const void *a, const void *b) {
    return strcmp((*(const TfCkptTensor *const *)a)->name, (*(const TfCkptTensor *const *)b)->name);
}

/* Check the manifest's index entry i and fill ck->tensors[i] (data not yet). */
static int check_info(Reader *r, const PbInfo *pi, int i, int n, TfCkptTensor *t) {
    char why[512];
    if (!pi || !pi->name) return FAIL(r, "manifest: tensor index entry %d of %d is empty", i, n);
    if (tf_ckpt_check_name(pi->name, strlen(pi->name), why, sizeof why))
        return FAIL(r, "manifest: tensor index entry %d of %d: %s", i, n, why);
    if (pi->n_shape < 1 || pi->n_shape > 4)
        return FAIL(r, "manifest: tensor '%s' has %zu dims (1..4 allowed)", pi->name, pi->n_shape);
    uint64_t numel = 1;
    for (size_t d = 0; d < pi->n_shape; d++) {
        if (pi->shape[d] < 1 || pi->shape[d] > INT32_MAX)
            return FAIL(r, "manifest: tensor '%s' has dim %zu = %u", pi->name, d, pi->shape[d]);
        if ((uint64_t)pi->shape[d] > TF_CKPT_MAX_FILE_BYTES / 4 / numel)
            return FAIL(r, "manifest: tensor '%s' has more elements than a checkpoint can hold (%llu bytes)", pi->name,
                        TF_CKPT_MAX_FILE_BYTES);
        numel *= pi->shape[d];
        t->shape[d] = (int)pi->shape[d];
    }
    if (pi->dtype != TINYFLOW__CKPT__DTYPE__DTYPE_F32)
        return FAIL(r, "manifest: tensor '%s' has dtype %d; this build reads float32 only", pi->name, (int)pi->dtype);
    if (pi->nbytes != numel * 4)
        return FAIL(r, "manifest: tensor '%s' claims %" PRIu64 " bytes but its shape holds %" PRIu64 " floats (%" PRIu64 " bytes)",
                    pi->name, pi->nbytes, numel, numel * 4);
    t->name = pi->name;
    t->ndim = (int)pi->n_shape;
    t->numel = (size_t)numel;
    t->crc32c = pi->crc32c;
    return 0;
}

static int check_manifest(Reader *r, const Tinyflow__Ckpt__Manifest *m, uint32_t version, TfCkpt *ck) {
    if (m->format_version != version)
        return FAIL(r, "manifest says format version %u but the header says %u", m->format_version, version);
    if (!printable(m->arch, 64)) return FAIL(r, "manifest: architecture name is empty, too long or not printable");
    if (strlen(m->config_text) > TF_CKPT_MAX_CONFIG_BYTES)
        return FAIL(r, "manifest: config text over %u bytes", TF_CKPT_MAX_CONFIG_BYTES);
    if (!printable(m->tinyflow_version, 64)) return FAIL(r, "manifest: tinyflow version is empty, too long or not printable");
    /* Fuzzing fix (tests/fuzz_regressions/ckpt_framed): the times are used as times (describe.c
     * converts saved_unix to time_t, which is undefined for NaN or 1e129): finite, |x| <= 1e12. */
    if (!(m->saved_unix >= -1e12 && m->saved_unix <= 1e12) || !(m->train_seconds >= -1e12 && m->train_seconds <= 1e12))
        return FAIL(r, "manifest: implausible save time %g or training time %g", m->saved_unix, m->train_seconds);
    /* A streak of skipped steps is part of all skipped steps (0 in files older than the field). */
    if (m->consecutive_skips > m->skipped_steps)
        return FAIL(r, "manifest: %" PRIu64 " consecutive skipped steps but only %" PRIu64 " skipped in all",
                    (uint64_t)m->consecutive_skips, (uint64_t)m->skipped_steps);
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, tf_ckpt_config_hash(m->config_text));
    if (strcmp(hash, m->config_hash) != 0)
        return FAIL(r, "manifest: config hash %.20s does not match its config text (%s)", m->config_hash, hash);
    if (m->n_tensors > TF_CKPT_MAX_TENSORS)
        return FAIL(r, "manifest lists %zu tensors (the limit is %d)", m->n_tensors, TF_CKPT_MAX_TENSORS);
    int n = (int)m->n_tensors;
    ck->tensors = calloc((size_t)n + 1, sizeof *ck->tensors);
    ck->by_name_ = calloc((size_t)n + 1, sizeof *ck->by_name_);
    if (!ck->tensors || !ck->by_name_) return FAIL(r, "out of memory for %d tensors", n);
    ck->n_tensors = n;
    uint64_t end = r->pos; /* where each tensor's data ends at the earliest (records >= one frame header) */
    for (int i = 0; i < n; i++) {
        if (check_info(r, m->tensors[i], i, n, &ck->tensors[i])) return -1;
        end += TF_CKPT_FRAME_BYTES + m->tensors[i]->nbytes;
        if (end > r->size)
            return FAIL(r, "truncated: the data of tensor '%s' (record %d of %d) ends past byte %" PRIu64 " but the file has "
                        "%" PRIu64 " bytes (the save did not finish or the file was cut)", m->tensors[i]->name, i + 1, n,
                        end, r->size);
    }
    const TfCkptTensor **sorted = malloc(((size_t)n + 1) * sizeof *sorted);
    if (!sorted) return FAIL(r, "out of memory for %d tensors", n);
    for (int i = 0; i < n; i++) sorted[i] = &ck->tensors[i];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_by_name);
    for (int i = 0; i < n; i++) ck->by_name_[i] = (int)(sorted[i] - ck->tensors);
    free(sorted);
    for (int i = 1; i < n; i++)
        if (strcmp(ck->tensors[ck->by_name_[i - 1]].name, ck->tensors[ck->by_name_[i]].name) == 0)
            return FAIL(r, "manifest: tensor '%s' is listed twice", ck->tensors[ck->by_name_[i]].name);
    return 0;
}

/* Read tensor i's record and payload into dst. */
static int read_tensor(Reader *r, const PbInfo *want, int i, int n, float *dst) {
    char what[TF_CKPT_NAME_MAX + 64];
    snprintf(what, sizeof what, "the record of tensor '%s' (record %d of %d)", want->name, i + 1, n);
    uint64_t at = r->pos;
    unsigned char *buf;
    uint32_t len, crc;
    if (read_frame(r, TF_CKPT_MAX_RECORD_BYTES, what, &buf, &len, &crc)) { free(buf); return -1; }
    Tinyflow__Ckpt__TensorRecord *rec = tinyflow__ckpt__tensor_record__unpack(NULL, len, buf);
    free(buf);
    if (!rec) return FAIL(r, "%s at offset %" PRIu64 " is not a valid TensorRecord message", what, at);
    const PbInfo *got = rec->info;
    int bad = !got || rec->index != (uint32_t)i || strcmp(got->name, want->name) != 0 ||
              got->n_shape != want->n_shape || got->dtype != want->dtype || got->nbytes != want->nbytes ||
              got->crc32c != want->crc32c;
    for (size_t d = 0; !bad && d < want->n_shape; d++) bad = got->shape[d] != want->shape[d];
    if (bad) {
        char q[TF_CKPT_NAME_MAX + 8];
        tf_ckpt_quote(got && got->name ? got->name : "", TF_CKPT_NAME_MAX, q, sizeof q);
        int ret = FAIL(r, "%s at offset %" PRIu64 " does not match the manifest (it says index %u, name \"%s\")", what, at,
                       rec->index, q);
        tinyflow__ckpt__tensor_record__free_unpacked(rec, NULL);
        return ret;
    }
    tinyflow__ckpt__tensor_record__free_unpacked(rec, NULL);
    snprintf(what, sizeof what, "the data of tensor '%s' (record %d of %d)", want->name, i + 1, n);
    at = r->pos;
    if (read_exact(r, dst, want->nbytes, what)) return -1;
    uint32_t sum = tf_crc32c_extend(0, dst, want->nbytes);
    if (sum != want->crc32c)
        return FAIL(r, "tensor '%s' (record %d of %d, data at offset %" PRIu64 ") is corrupted: checksum 0x%08x, stored 0x%08x",
                    want->name, i + 1, n, at, sum, want->crc32c);
    return 0;
}

int tf_ckpt_load_fd(int fd, const char *shown, TfCkpt **out, char *err, size_t cap) {
    *out = NULL;
    Reader r = {fd, shown, 0, 0, err, cap};
    struct stat st;
    if (fstat(fd, &st) != 0) return FAIL(&r, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return FAIL(&r, "not a regular file");
    r.size = (uint64_t)st.st_size;
    if (r.size > TF_CKPT_MAX_FILE_BYTES)
        return FAIL(&r, "%" PRIu64 " bytes is over the %llu-byte limit for a checkpoint", r.size, TF_CKPT_MAX_FILE_BYTES);
    unsigned char head[TF_CKPT_HEADER_BYTES];
    if (r.size < TF_CKPT_MAGIC_BYTES)
        return FAIL(&r, "%" PRIu64 " bytes: too short to be a checkpoint (truncated or empty)", r.size);
    if (read_exact(&r, head, TF_CKPT_MAGIC_BYTES, "the header")) return -1;
    if (memcmp(head, TF_CKPT_MAGIC, TF_CKPT_MAGIC_BYTES) != 0)
        return FAIL(&r, "not a tinyflow checkpoint (bad magic bytes at offset 0)");
    if (read_exact(&r, head + TF_CKPT_MAGIC_BYTES, TF_CKPT_HEADER_BYTES - TF_CKPT_MAGIC_BYTES, "the header")) return -1;
    uint32_t version = tf_get_le32(head + 8);
    if (tf_crc32c_extend(0, head, 12) != tf_get_le32(head + 12)) return FAIL(&r, "the header is corrupted (checksum mismatch)");
    if (version != TF_CKPT_FORMAT_VERSION)
        return FAIL(&r, "format version %u; this build reads version %u (%s)", version, TF_CKPT_FORMAT_VERSION,
                    version > TF_CKPT_FORMAT_VERSION ? "written by a newer tinyflow" : "written by an older tinyflow");

    TfCkpt *ck = calloc(1, sizeof *ck);
    unsigned char *mbuf = NULL, *fbuf = NULL;
    Tinyflow__Ckpt__Manifest *man = NULL;
    Tinyflow__Ckpt__Footer *foot = NULL;
    uint32_t mlen, mcrc, flen, fcrc;
    if (!ck) return FAIL(&r, "out of memory");
    snprintf(ck->path, sizeof ck->path, "%s", shown);
    ck->file_bytes = r.size;
    if (read_frame(&r, TF_CKPT_MAX_MANIFEST_BYTES, "the manifest record", &mbuf, &mlen, &mcrc)) goto fail;
    man = tinyflow__ckpt__manifest__unpack(NULL, mlen, mbuf);
    if (!man) { FAIL(&r, "the manifest record is not a valid Manifest message"); goto fail; }
    ck->manifest_ = man;
    if (check_manifest(&r, man, version, ck)) goto fail;
    uint64_t arena = 0;
    for (int i = 0; i < ck->n_tensors; i++) arena += (ck->tensors[i].numel * 4 + 63) & ~(uint64_t)63;
    if (!(ck->arena_ = aligned_alloc(64, arena ? (size_t)arena : 64))) {
        FAIL(&r, "out of memory for %" PRIu64 " bytes of tensors", arena);
        goto fail;
    }
    uint64_t off = 0;
    for (int i = 0; i < ck->n_tensors; i++) {
        float *dst = ck->arena_ + off / 4;
        if (read_tensor(&r, man->tensors[i], i, ck->n_tensors, dst)) goto fail;
        ck->tensors[i].data = dst;
        off += (ck->tensors[i].numel * 4 + 63) & ~(uint64_t)63;
    }
    uint64_t foot_at = r.pos;
    if (read_frame(&r, TF_CKPT_MAX_FOOTER_BYTES, "the footer", &fbuf, &flen, &fcrc)) goto fail;
    if (!(foot = tinyflow__ckpt__footer__unpack(NULL, flen, fbuf))) { FAIL(&r, "the footer is not a valid Footer message"); goto fail; }
    uint64_t payload = 0;
    for (int i = 0; i < ck->n_tensors; i++) payload += ck->tensors[i].numel * 4;
    if (foot->tensor_count != (uint32_t)ck->n_tensors || foot->manifest_crc32c != mcrc ||
        foot->payload_bytes != payload || foot->footer_offset != foot_at) {
        FAIL(&r, "the footer does not vouch for this manifest (tensors %u vs %d, manifest crc 0x%08x vs 0x%08x, "
             "offset %" PRIu64 " vs %" PRIu64 ")", foot->tensor_count, ck->n_tensors, foot->manifest_crc32c, mcrc,
             foot->footer_offset, foot_at);
        goto fail;
    }
    if (r.pos != r.size) {
        FAIL(&r, "%" PRIu64 " unexpected bytes after the footer at offset %" PRIu64, r.size - r.pos, r.pos);
        goto fail;
    }
    TfCkptMeta *m = &ck->meta;
    m->arch = man->arch;
    m->config_text = man->config_text;
    m->step = man->step;
    m->epoch = man->epoch;
    m->loader_cursor = man->loader_cursor;
    m->seed = man->seed;
    m->rng_key = man->rng_key;
    m->skipped_steps = man->skipped_steps;
    m->consecutive_skips = man->consecutive_skips; /* absent in older files: 0 */
    m->world_size = man->world_size;
    m->train_seconds = man->train_seconds;
    m->format_version = man->format_version;
    m->tinyflow_version = man->tinyflow_version;
    snprintf(m->config_hash, sizeof m->config_hash, "%s", man->config_hash);
    m->saved_unix = man->saved_unix;
    free(mbuf);
    free(fbuf);
    tinyflow__ckpt__footer__free_unpacked(foot, NULL);
    *out = ck;
    return 0;
fail:
    free(mbuf);
    free(fbuf);
    if (foot) tinyflow__ckpt__footer__free_unpacked(foot, NULL);
    tf_ckpt_free(ck);
    return -1;
}

int tf_ckpt_load(const char *path, TfCkpt **out, char *err, size_t cap) {
    *out = NULL;
    if (!path) return tf_ckpt_fail(err, cap, "checkpoint load: no path given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tf_ckpt_fail(err, cap, "checkpoint '%s': cannot open: %s", path, strerror(errno));
    int rc = tf_ckpt_load_fd(fd, path, out, err, cap);
    close(fd);
    return rc;
}

TfCkpt *tf_ckpt_load_or_die(const char *path) {
    char err[2048];
    TfCkpt *ck = NULL;
    if (tf_ckpt_load(path, &ck, err, sizeof err))
        tf_die_hint("pick another checkpoint (or resume=auto to use the newest good one); "
                    "`tf_ckpt_describe` shows what a file holds", "%s", err);
    return ck;
}

void tf_ckpt_free(TfCkpt *ck) {
    if (!ck) return;
    if (ck->manifest_) tinyflow__ckpt__manifest__free_unpacked(ck->manifest_, NULL);
    free(ck->tensors);
    free(ck->by_name_);
    free(ck->arena_);
    free(ck);
}

const TfCkptTensor *tf_ckpt_tensor(const TfCkpt *ck, const char *name) {
    if (!ck || !name) return NULL;
    int lo = 0, hi = ck->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const TfCkptTensor *t = &ck->tensors[ck->by_name_[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}
