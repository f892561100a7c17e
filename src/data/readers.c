/* readers.c - IDX (plain or gzip, via zlib) and CIFAR-10 binary batch readers with strict
 * validation: magic, element type, dimensions, exact file size, label range.
 * Knows nothing about loaders, configs or models. */
#include "data/readers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/check.h"
#include "data/dataset.h"

static int fail(char *err, size_t cap, const char *fmt, ...) TF_PRINTF(3, 4);
static int fail(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* zlib's message without the "path: " it puts in front. */
static const char *gz_msg(gzFile gz, const char *path, int *code) {
    const char *msg = gzerror(gz, code);
    size_t L = strlen(path);
    if (!strncmp(msg, path, L) && msg[L] == ':' && msg[L + 1] == ' ') msg += L + 2;
    return msg;
}

/* Read exactly n bytes; 0 ok, -1 with a message (truncated / corrupt gzip / I/O). `before`:
 * bytes of the same item already read (only for the message). */
static int gz_read_exact(gzFile gz, void *buf, size_t n, size_t before, const char *path, const char *what, char *err,
                         size_t cap) {
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(gz, p + got, (unsigned)chunk);
        if (r < 0) {
            int code;
            const char *msg = gz_msg(gz, path, &code);
            (void)what;
            return fail(err, cap, "'%s': corrupt gzip data: %s", path, code == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got < n) {
        int code;
        const char *msg = gz_msg(gz, path, &code);
        return fail(err, cap, "'%s': truncated: the %s needs %zu bytes, the file has only %zu%s%s", path, what,
                    before + n, before + got, code != Z_OK ? ": " : "", code != Z_OK ? msg : "");
    }
    return 0;
}

int tf_idx_read(const char *path, TfIdx *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st)) return fail(err, cap, "'%s': cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(err, cap, "'%s': not a regular file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return fail(err, cap, "'%s': cannot open: %s", path, strerror(errno));
    unsigned char head[4 + 4 * 4];
    int rc = -1;
    if (gz_read_exact(gz, head, 4, 0, path, "IDX magic", err, cap)) goto out;
    if (head[0] || head[1]) {
        fail(err, cap, "'%s': not an IDX file (magic %02x %02x %02x %02x; expected 00 00 08 <ndim>)", path, head[0],
             head[1], head[2], head[3]);
        goto out;
    }
    if (head[2] != 0x08) {
        fail(err, cap, "'%s': IDX element type 0x%02x is not supported (only 0x08, unsigned bytes)", path, head[2]);
        goto out;
    }
    int ndim = head[3];
    if (ndim < 1 || ndim > 4) { fail(err, cap, "'%s': IDX rank %d is out of range 1..4", path, ndim); goto out; }
    if (gz_read_exact(gz, head + 4, (size_t)ndim * 4, 0, path, "IDX dimensions", err, cap)) goto out;
    size_t total = 1;
    for (int d = 0; d < ndim; d++) {
        uint32_t v = be32(head + 4 + 4 * d);
        uint32_t lim = d == 0 ? TF_DATA_MAX_EXAMPLES : TF_DATA_MAX_DIM;
        if (v == 0 || v > lim) {
            fail(err, cap, "'%s': dimension %d is %u, outside 1..%u", path, d, v, lim);
            goto out;
        }
        if (total > TF_DATA_MAX_BYTES / v) {
            fail(err, cap, "'%s': the dimensions give more than %zu bytes", path, TF_DATA_MAX_BYTES);
            goto out;
        }
        total *= v;
        out->dims[d] = v;
    }
    out->ndim = ndim;
    size_t header = 4 + 4 * (size_t)ndim;
    /* A plain file must be exactly header + data; a gzip stream is checked as it is read. */
    if (gzdirect(gz) && (uint64_t)st.st_size != header + total) {
        char shape[64] = "";
        for (int d = 0; d < ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%u", d ? " x " : "", out->dims[d]);
        fail(err, cap, "'%s': wrong size: %lld bytes, but the header (%s) needs %zu", path, (long long)st.st_size,
             shape, header + total);
        goto out;
    }
    /* Fuzzing fix (fuzz/, tests/fuzz_regressions/idx_pair): a gzip stream of a few dozen bytes
     * can declare up to TF_DATA_MAX_BYTES (4 GiB) of data, which was malloc'd before a byte
     * of it was read. A gzip stream's buffer now starts at 1 MiB and doubles as data actually
     * arrives; a plain file's size was already checked against the header above. */
    size_t have = 0, room = gzdirect(gz) || total < ((size_t)1 << 20) ? total : ((size_t)1 << 20);
    out->data = malloc(room);
    if (!out->data) { fail(err, cap, "'%s': out of memory for %zu bytes", path, room); goto out; }
    out->size = total;
    for (;;) {
        if (gz_read_exact(gz, out->data + have, room - have, have, path, "IDX data", err, cap)) goto out;
        have = room;
        if (have == total) break;
        room = room > total / 2 ? total : room * 2;
        uint8_t *grown = realloc(out->data, room);
        if (!grown) { fail(err, cap, "'%s': out of memory for %zu bytes", path, room); goto out; }
        out->data = grown;
    }
    unsigned char extra;
    int r = gzread(gz, &extra, 1);
    if (r < 0) {
        int code;
        fail(err, cap, "'%s': corrupt gzip data after the IDX data: %s", path, gz_msg(gz, path, &code));
        goto out;
    }
    if (r > 0) { fail(err, cap, "'%s': wrong size: extra bytes after the %zu the header declares", path, header + total); goto out; }
    rc = 0;
out:
    gzclose(gz);
    if (rc) tf_idx_free(out);
    return rc;
}

void tf_idx_free(TfIdx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

void tf_idx_load(const char *path, TfIdx *out) {
    char err[1024];
    if (tf_idx_read(path, out, err, sizeof err))
        tf_die_usage("re-fetch the data with `tinyflow data fetch NAME`", "%s", err);
}

int tf_idx_read_pair(const char *images_path, const char *labels_path, int num_classes, int64_t *n, int *h,
                     int *w, uint8_t **pixels, uint8_t **labels, char *err, size_t cap) {
    TfIdx im, lb;
    if (tf_idx_read(images_path, &im, err, cap)) return -1;
    if (im.ndim != 3) {
        tf_idx_free(&im);
        return fail(err, cap, "'%s': an images file has 3 dimensions (N x H x W), this one has %d", images_path, im.ndim);
    }
    if (tf_idx_read(labels_path, &lb, err, cap)) { tf_idx_free(&im); return -1; }
    int rc = -1;
    if (lb.ndim != 1) {
        fail(err, cap, "'%s': a labels file has 1 dimension (N), this one has %d", labels_path, lb.ndim);
        goto out;
    }
    if (lb.dims[0] != im.dims[0]) {
        fail(err, cap, "'%s' holds %u labels but '%s' holds %u images", labels_path, lb.dims[0], images_path, im.dims[0]);
        goto out;
    }
    for (uint32_t i = 0; i < lb.dims[0]; i++)
        if (lb.data[i] >= num_classes) {
            fail(err, cap, "'%s': label %u of example %u is out of range 0..%d", labels_path, lb.data[i], i, num_classes - 1);
            goto out;
        }
    *n = im.dims[0];
    *h = (int)im.dims[1];
    *w = (int)im.dims[2];
    *pixels = im.data;
    *labels = lb.data;
    im.data = lb.data = NULL;
    rc = 0;
out:
    tf_idx_free(&im);
    tf_idx_free(&lb);
    return rc;
}

int tf_cifar_read_batch(const char *path, int64_t records, uint8_t *pixels, uint8_t *labels, char *err, size_t cap) {
    if (records <= 0 || records > TF_DATA_MAX_EXAMPLES) return fail(err, cap, "'%s': bad record count %lld", path, (long long)records);
    struct stat st;
    if (stat(path, &st)) return fail(err, cap, "'%s': cannot open: %s", path, strerror(errno));
    uint64_t want = (uint64_t)records * TF_CIFAR_RECORD;
    if ((uint64_t)st.st_size != want)
        return fail(err, cap, "'%s': wrong size: %lld bytes, a CIFAR-10 batch of %lld records is %llu%s", path,
                    (long long)st.st_size, (long long)records, (unsigned long long)want,
                    st.st_size % TF_CIFAR_RECORD ? " (not a whole number of 3073-byte records)" : "");
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, cap, "'%s': cannot open: %s", path, strerror(errno));
    unsigned char rec[TF_CIFAR_RECORD];
    int rc = 0;
    for (int64_t i = 0; i < records; i++) {
        if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
            rc = fail(err, cap, "'%s': truncated at record %lld", path, (long long)i);
            break;
        }
        if (rec[0] > 9) {
            rc = fail(err, cap, "'%s': label %u of record %lld is out of range 0..9", path, rec[0], (long long)i);
            break;
        }
        labels[i] = rec[0];
        memcpy(pixels + (size_t)i * 3072, rec + 1, 3072);
    }
    fclose(f);
    return rc;
}

void tf_cifar_load_batch(const char *path, int64_t records, uint8_t *pixels, uint8_t *labels) {
    char err[1024];
    if (tf_cifar_read_batch(path, records, pixels, labels, err, sizeof err))
        tf_die_usage("re-create the data with `tinyflow data fetch cifar10 --from cifar-10-binary.tar.gz`", "%s", err);
}

void tf_path_join(char *out, size_t cap, const char *dir, const char *name, const char *suffix) {
    int n = snprintf(out, cap, "%s/%s%s", dir, name, suffix ? suffix : "");
    if (n < 0 || (size_t)n >= cap) tf_die_usage("use a shorter data directory", "path too long: '%s/%s'", dir, name);
}

int tf_data_find_file(const char *dir, const char *base, char *out, size_t cap, char *err, size_t errcap) {
    struct stat st;
    tf_path_join(out, cap, dir, base, NULL);
    if (!stat(out, &st)) return 0;
    tf_path_join(out, cap, dir, base, ".gz");
    if (!stat(out, &st)) return 0;
    return fail(err, errcap, "'%s/%s' not found (nor '%s/%s.gz')", dir, base, dir, base);
}
