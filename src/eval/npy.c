/* npy.c - .npy read/write and .npz (stored zip write; stored/deflated member read) with
 * zlib's CRC-32 and inflate (see npy.h). Must not know about models, datasets or FID. */
#include "eval/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/check.h"
#include "core/fileio.h"

static const unsigned char k_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static size_t item_size(const char *descr) {
    static const struct { const char *d; size_t s; } k[] = {
        {"<f4", 4}, {"<f8", 8}, {"<i4", 4}, {"<i8", 8}, {"|u1", 1}, {"|i1", 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(descr, k[i].d)) return k[i].s;
    return 0;
}

/* Value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    return p;
}

static int parse_header(const char *h, const char *name, TfNpy *a, char *err, size_t cap) {
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *sh = dict_value(h, "shape");
    if (!d || !fo || !sh || (*d != '\'' && *d != '"')) {
        snprintf(err, cap, "%s: .npy header lacks descr/fortran_order/shape: %.120s", name, h);
        return -1;
    }
    size_t n = strcspn(d + 1, "'\"");
    if (n >= sizeof a->descr) n = sizeof a->descr - 1;
    memcpy(a->descr, d + 1, n);
    a->descr[n] = '\0';
    if (!strcmp(a->descr, "<u1") || !strcmp(a->descr, "u1")) strcpy(a->descr, "|u1");
    if (!strcmp(a->descr, "<i1") || !strcmp(a->descr, "i1")) strcpy(a->descr, "|i1");
    a->itemsize = item_size(a->descr);
    if (!a->itemsize) {
        snprintf(err, cap, "%s: dtype '%s' is not supported (use float32 '<f4', float64, int32/64 or uint8)", name,
                 a->descr);
        return -1;
    }
    if (strncmp(fo, "False", 5)) {
        snprintf(err, cap, "%s: fortran_order arrays are not supported (save with numpy.ascontiguousarray)", name);
        return -1;
    }
    if (*sh != '(') { snprintf(err, cap, "%s: bad shape in .npy header", name); return -1; }
    a->ndim = 0;
    a->numel = 1;
    const char *p = sh + 1;
    /* Untrusted header: every dimension must parse without overflow, dimensions are separated
     * by commas, and the element count may not overflow (checked here, returning an error,
     * rather than through a dying helper). Found by fuzz/fuzz_npy. */
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno == ERANGE || v < 0 || v > (long long)TF_NPY_MAX_BYTES || a->ndim >= TF_NPY_MAX_DIMS) {
            snprintf(err, cap, "%s: bad or too many dimensions in .npy shape", name);
            return -1;
        }
        if (v != 0 && a->numel > (size_t)TF_NPY_MAX_BYTES / (size_t)v) {
            snprintf(err, cap, "%s: .npy shape has too many elements", name);
            return -1;
        }
        a->shape[a->ndim++] = v;
        a->numel *= (size_t)v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (*p != ')') {
            snprintf(err, cap, "%s: .npy shape dimensions must be separated by commas", name);
            return -1;
        }
    }
    if (a->numel > (size_t)TF_NPY_MAX_BYTES / (a->itemsize ? a->itemsize : 1)) {
        snprintf(err, cap, "%s: array of %zu elements exceeds the 16 GiB cap", name, a->numel);
        return -1;
    }
    return 0;
}

/* Preamble (magic, version, header) at buf: header text into h[hcap], preamble length out. */
static int read_preamble(const unsigned char *buf, size_t len, const char *name, char *h, size_t hcap,
                         size_t *pre, char *err, size_t cap) {
    if (len < 10 || memcmp(buf, k_magic, 6)) { snprintf(err, cap, "%s: not an .npy file (bad magic)", name); return -1; }
    size_t hl, off;
    if (buf[6] == 1) hl = buf[8] | (size_t)buf[9] << 8, off = 10;
    else if (buf[6] == 2 || buf[6] == 3) {
        if (len < 12) { snprintf(err, cap, "%s: truncated .npy header", name); return -1; }
        hl = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24, off = 12;
    } else { snprintf(err, cap, "%s: .npy version %d is not supported", name, buf[6]); return -1; }
    if (hl >= hcap || off + hl > len) { snprintf(err, cap, "%s: .npy header too long or truncated", name); return -1; }
    memcpy(h, buf + off, hl);
    h[hl] = '\0';
    *pre = off + hl;
    return 0;
}

int tf_npy_decode(const unsigned char *buf, size_t len, const char *name, TfNpy *a, char *err, size_t cap) {
    memset(a, 0, sizeof *a);
    char h[4096];
    size_t pre;
    if (read_preamble(buf, len, name, h, sizeof h, &pre, err, cap) || parse_header(h, name, a, err, cap)) return -1;
    size_t bytes = a->numel * a->itemsize;
    if (len - pre != bytes) {
        snprintf(err, cap, "%s: %zu data bytes for an array of %zu bytes", name, len - pre, bytes);
        return -1;
    }
    a->data = tf_malloc(bytes ? bytes : 1);
    memcpy(a->data, buf + pre, bytes);
    return 0;
}

int tf_npy_read(const char *path, TfNpy *a, char *err, size_t cap) {
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    unsigned char head[4096 + 12];
    size_t got = fread(head, 1, sizeof head, f);
    char h[4096];
    size_t pre;
    if (read_preamble(head, got, path, h, sizeof h, &pre, err, cap) || parse_header(h, path, a, err, cap)) {
        fclose(f);
        return -1;
    }
    size_t bytes = a->numel * a->itemsize;
    /* Compare with the file's size BEFORE allocating what the header claims (fuzz/fuzz_npy). */
    long fsize = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (fsize < 0 || (size_t)fsize != pre + bytes) {
        fclose(f);
        snprintf(err, cap, "%s: the data is truncated or has trailing bytes (%zu bytes expected)", path, bytes);
        return -1;
    }
    a->data = tf_malloc(bytes ? bytes : 1);
    int bad = fseek(f, (long)pre, SEEK_SET) != 0 || fread(a->data, 1, bytes, f) != bytes;
    bad |= !bad && fgetc(f) != EOF;
    fclose(f);
    if (bad) {
        snprintf(err, cap, "%s: the data is truncated or has trailing bytes (%zu bytes expected)", path, bytes);
        tf_npy_free(a);
        return -1;
    }
    return 0;
}

void tf_npy_free(TfNpy *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

unsigned char *tf_npy_encode(const char *descr, int ndim, const int64_t *shape, const void *data, size_t *len) {
    char h[512], dims[256] = "";
    size_t numel = 1, used = 0;
    if (!item_size(descr) || ndim < 0 || ndim > TF_NPY_MAX_DIMS) tf_die("npy: bad descr '%s' or ndim %d", descr, ndim);
    for (int i = 0; i < ndim; i++) {
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%lld,%s", (long long)shape[i], i + 1 < ndim ? " " : "");
        numel = tf_mul_size(numel, (size_t)shape[i], "npy shape");
    }
    if (ndim > 1) dims[used - 1] = '\0'; /* "(3, 4)" but "(3,)" */
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    size_t pre = 10 + (size_t)n + 1, pad = (64 - pre % 64) % 64, hl = (size_t)n + pad + 1;
    size_t bytes = numel * item_size(descr);
    unsigned char *b = tf_malloc(10 + hl + bytes);
    memcpy(b, k_magic, 6);
    b[6] = 1, b[7] = 0, b[8] = (unsigned char)(hl & 0xff), b[9] = (unsigned char)(hl >> 8);
    memcpy(b + 10, h, (size_t)n);
    memset(b + 10 + n, ' ', pad);
    b[10 + hl - 1] = '\n';
    if (bytes) memcpy(b + 10 + hl, data, bytes);
    *len = 10 + hl + bytes;
    return b;
}

static int write_atomic(const char *path, const unsigned char *const *parts, const size_t *lens, int n, char *err,
                        size_t cap) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = tf_fopen_new(tmp);
    if (!f) { snprintf(err, cap, "%s: cannot create: %s", tmp, strerror(errno)); return -1; }
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) bad = lens[i] && fwrite(parts[i], 1, lens[i], f) != lens[i];
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        snprintf(err, cap, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int tf_npy_write(const char *path, const char *descr, int ndim, const int64_t *shape, const void *data, char *err,
                 size_t cap) {
    size_t len;
    unsigned char *b = tf_npy_encode(descr, ndim, shape, data, &len);
    const unsigned char *parts[1] = {b};
    int rc = write_atomic(path, parts, &len, 1, err, cap);
    free(b);
    return rc;
}

/* ---- zip ------------------------------------------------------------------------------------ */
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xffff), put16(p + 2, v >> 16); }
static unsigned get16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const unsigned char *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

static uint32_t crc_of(const unsigned char *b, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < n;) {
        size_t k = n - off > (1u << 30) ? (1u << 30) : n - off;
        c = crc32(c, b + off, (uInt)k);
        off += k;
    }
    return (uint32_t)c;
}

int tf_zip_write_stored(const char *path, int n, const char *const *names, const unsigned char *const *bufs,
                        const size_t *lens, char *err, size_t cap) {
    size_t total = 22, cd = 0;
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(names[i]);
        total += 30 + 46 + 2 * nl + lens[i];
        cd += 46 + nl;
    }
    if (n > 0xffff || total >= 0xffffffffu) { snprintf(err, cap, "%s: over 4 GiB or 65535 members (zip64 is not written)", path); return -1; }
    unsigned char *z = tf_malloc(total), *p = z, *c = z + total - 22 - cd;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const size_t nl = strlen(names[i]);
        const uint32_t crc = crc_of(bufs[i], lens[i]);
        /* local header: version 2.0, no flags, method 0 (stored), time 0, date 1980-01-01 */
        put32(p, 0x04034b50), put16(p + 4, 20), put16(p + 6, 0), put16(p + 8, 0), put16(p + 10, 0),
            put16(p + 12, 0x21), put32(p + 14, crc), put32(p + 18, (uint32_t)lens[i]),
            put32(p + 22, (uint32_t)lens[i]), put16(p + 26, (unsigned)nl), put16(p + 28, 0);
        memcpy(p + 30, names[i], nl);
        memcpy(p + 30 + nl, bufs[i], lens[i]);
        /* central directory entry */
        put32(c, 0x02014b50), put16(c + 4, 20), put16(c + 6, 20), put16(c + 8, 0), put16(c + 10, 0),
            put16(c + 12, 0), put16(c + 14, 0x21), put32(c + 16, crc), put32(c + 20, (uint32_t)lens[i]),
            put32(c + 24, (uint32_t)lens[i]), put16(c + 28, (unsigned)nl), put16(c + 30, 0), put16(c + 32, 0),
            put16(c + 34, 0), put16(c + 36, 0), put32(c + 38, 0), put32(c + 42, (uint32_t)off);
        memcpy(c + 46, names[i], nl);
        c += 46 + nl;
        p += 30 + nl + lens[i];
        off += 30 + nl + lens[i];
    }
    unsigned char *e = z + total - 22; /* end of central directory */
    put32(e, 0x06054b50), put16(e + 4, 0), put16(e + 6, 0), put16(e + 8, (unsigned)n), put16(e + 10, (unsigned)n),
        put32(e + 12, (uint32_t)cd), put32(e + 16, (uint32_t)off), put16(e + 20, 0);
    const unsigned char *parts[1] = {z};
    int rc = write_atomic(path, parts, &total, 1, err, cap);
    free(z);
    return rc;
}

int tf_npz_write_stats(const char *path, int d, const double *mu, const double *sigma, char *err, size_t cap) {
    int64_t s1[1] = {d}, s2[2] = {d, d};
    size_t lens[2];
    unsigned char *b[2] = {tf_npy_encode("<f8", 1, s1, mu, &lens[0]), tf_npy_encode("<f8", 2, s2, sigma, &lens[1])};
    const char *names[2] = {"mu.npy", "sigma.npy"};
    int rc = tf_zip_write_stored(path, 2, names, (const unsigned char *const *)b, lens, err, cap);
    free(b[0]);
    free(b[1]);
    return rc;
}

static int inflate_raw(const unsigned char *src, size_t n, unsigned char *dst, size_t m) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return -1;
    zs.next_in = (unsigned char *)src;
    zs.avail_in = (uInt)n;
    zs.next_out = dst;
    zs.avail_out = (uInt)m;
    int r = inflate(&zs, Z_FINISH);
    size_t out = zs.total_out;
    inflateEnd(&zs);
    return r == Z_STREAM_END && out == m ? 0 : -1;
}

int tf_npz_read(const char *path, const char *name, TfNpy *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    char want[256];
    snprintf(want, sizeof want, "%s%s", name, strstr(name, ".npy") ? "" : ".npy");
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    long sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (sz < 22 || sz > 0xffffffffL) { fclose(f); snprintf(err, cap, "%s: not a zip/npz file, or over 4 GiB", path); return -1; }
    unsigned char *z = tf_malloc((size_t)sz);
    int bad = fseek(f, 0, SEEK_SET) != 0 || fread(z, 1, (size_t)sz, f) != (size_t)sz;
    fclose(f);
    int rc = -1;
    long e = sz - 22;
    while (!bad && e >= 0 && get32(z + e) != 0x06054b50) e--;
    if (bad || e < 0) { snprintf(err, cap, "%s: not a zip/npz file (no end-of-central-directory record)", path); goto done; }
    unsigned entries = get16(z + e + 10);
    size_t cdoff = get32(z + e + 16), p = cdoff;
    for (unsigned k = 0; k < entries; k++) {
        if (p + 46 > (size_t)sz || get32(z + p) != 0x02014b50) { snprintf(err, cap, "%s: corrupt central directory", path); goto done; }
        unsigned method = get16(z + p + 10), nl = get16(z + p + 28), xl = get16(z + p + 30), cl = get16(z + p + 32);
        uint32_t crc = get32(z + p + 16), csize = get32(z + p + 20), usize = get32(z + p + 24), loff = get32(z + p + 42);
        if (p + 46 + nl > (size_t)sz) break;
        if (nl == strlen(want) && !memcmp(z + p + 46, want, nl)) {
            if (csize == 0xffffffffu || usize == 0xffffffffu || loff == 0xffffffffu) {
                snprintf(err, cap, "%s: member %s uses zip64 sizes (over 4 GiB): not supported", path, want);
                goto done;
            }
            if ((size_t)loff + 30 > (size_t)sz || get32(z + loff) != 0x04034b50) { snprintf(err, cap, "%s: bad local header of %s", path, want); goto done; }
            size_t data = (size_t)loff + 30 + get16(z + loff + 26) + get16(z + loff + 28);
            if (data + csize > (size_t)sz) { snprintf(err, cap, "%s: member %s is truncated", path, want); goto done; }
            /* Bound the uncompressed size by what the member can hold before allocating it: stored
             * members are exactly csize, deflate expands at most ~1032:1 (fuzz/fuzz_npz). */
            if (method != 0 && method != 8) {
                /* Fuzzing fix (tests/fuzz_regressions/npz/oom-method-9): an unknown method skipped
                 * the size bound below and allocated the declared size first. */
                snprintf(err, cap, "%s: member %s uses zip method %u (only stored and deflate)", path, want, method);
                goto done;
            }
            if ((method == 0 && csize != usize) || (method == 8 && (uint64_t)usize > (uint64_t)csize * 1032u + 64u)) {
                snprintf(err, cap, "%s: member %s declares an impossible size (%u bytes from %u)", path, want, usize, csize);
                goto done;
            }
            unsigned char *u = tf_malloc(usize ? usize : 1);
            int ok = method == 0 ? (memcpy(u, z + data, usize), 0) : inflate_raw(z + data, csize, u, usize);
            if (ok || crc_of(u, usize) != crc) snprintf(err, cap, "%s: member %s is corrupt (CRC-32 or size)", path, want);
            else {
                char nm[4400];
                snprintf(nm, sizeof nm, "%s:%s", path, want);
                rc = tf_npy_decode(u, usize, nm, out, err, cap);
            }
            free(u);
            goto done;
        }
        p += 46 + nl + xl + cl;
    }
    snprintf(err, cap, "%s: no member '%s' (pytorch-fid statistics hold mu.npy and sigma.npy)", path, want);
done:
    free(z);
    return rc;
}
