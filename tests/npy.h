/* npy.h - a small header-only reader/writer of NumPy .npy files for tests and dumps.
 *
 * Writes format version 1.0: magic "\x93NUMPY", version 1.0, a little-endian uint16 header
 * length, an ASCII dict {'descr': '<f4' | '<i4', 'fortran_order': False, 'shape': (...), }
 * padded with spaces and ended by '\n' so the data starts on a 64-byte boundary, then the
 * little-endian data in C order. Shapes have 0 to 4 dimensions.
 * Reads versions 1.0, 2.0 and 3.0 of the same; anything else (other dtypes, big-endian,
 * Fortran order, more than 4 dimensions, a data size that does not match the file) is refused
 * with a message on stderr.
 *
 *   int    npy_write_f32(const char *path, const float *data, int ndim, const long *shape);
 *   int    npy_write_i32(const char *path, const int32_t *data, int ndim, const long *shape);
 *          0 on success, -1 (and a message) on error.
 *   float   *npy_read_f32(const char *path, int *ndim, long shape[4]);
 *   int32_t *npy_read_i32(const char *path, int *ndim, long shape[4]);
 *          malloc'd data (free() it), NULL (and a message) on error. Unused shape[] entries are 1.
 *   long   npy_numel(int ndim, const long *shape);
 */
#ifndef TF_NPY_H
#define TF_NPY_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_DIMS 4

static inline long npy_numel(int ndim, const long *shape) {
    long n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

static inline int npy_host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Reverse the byte order of n 4-byte elements in place (big-endian hosts only). */
static inline void npy_swap4(void *data, long n) {
    unsigned char *p = (unsigned char *)data;
    for (long i = 0; i < n; i++, p += 4) {
        unsigned char t0 = p[0], t1 = p[1];
        p[0] = p[3];
        p[1] = p[2];
        p[2] = t1;
        p[3] = t0;
    }
}

static inline int npy_write4(const char *path, const char *descr, const void *data, int ndim,
                             const long *shape) {
    if (ndim < 0 || ndim > NPY_MAX_DIMS) {
        fprintf(stderr, "npy: %s: %d dimensions (0 to %d supported)\n", path, ndim, NPY_MAX_DIMS);
        return -1;
    }
    long n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > (LONG_MAX / 4) / shape[i])) {
            fprintf(stderr, "npy: %s: bad shape[%d] = %ld\n", path, i, shape[i]);
            return -1;
        }
        n *= shape[i];
    }
    if (n > 0 && !data) {
        fprintf(stderr, "npy: %s: no data\n", path);
        return -1;
    }
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, ndim == 1 ? "%ld," : (i ? ", %ld" : "%ld"),
                        shape[i]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    int total = 10 + len + 1;             /* magic+version+hlen, dict, '\n' */
    int padded = (total + 63) / 64 * 64;
    int hlen = padded - 10;
    char header[320];
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)(hlen & 0xff);
    header[9] = (char)((hlen >> 8) & 0xff);
    memcpy(header + 10, dict, (size_t)len);
    memset(header + 10 + len, ' ', (size_t)(padded - total));
    header[padded - 1] = '\n';

    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "npy: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fwrite(header, 1, (size_t)padded, f) == (size_t)padded;
    if (ok && n > 0) {
        if (npy_host_is_le()) {
            ok = fwrite(data, 4, (size_t)n, f) == (size_t)n;
        } else {
            unsigned char tmp[4096];
            const unsigned char *src = (const unsigned char *)data;
            for (long i = 0; ok && i < n; i += 1024) {
                long m = n - i < 1024 ? n - i : 1024;
                memcpy(tmp, src + 4 * i, (size_t)(4 * m));
                npy_swap4(tmp, m);
                ok = fwrite(tmp, 4, (size_t)m, f) == (size_t)m;
            }
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        fprintf(stderr, "npy: write error on %s: %s\n", path, strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}

static inline int npy_write_f32(const char *path, const float *data, int ndim, const long *shape) {
    return npy_write4(path, "<f4", data, ndim, shape);
}

static inline int npy_write_i32(const char *path, const int32_t *data, int ndim, const long *shape) {
    return npy_write4(path, "<i4", data, ndim, shape);
}

/* Find 'key': (or "key":) in the header dict; returns the first character after the colon,
 * spaces skipped, or NULL. */
static inline const char *npy_dict_value(const char *dict, const char *key) {
    size_t kl = strlen(key);
    for (const char *s = dict; *s; s++) {
        if ((*s == '\'' || *s == '"') && strncmp(s + 1, key, kl) == 0 && s[1 + kl] == *s) {
            const char *q = s + 2 + kl;
            while (*q == ' ') q++;
            if (*q != ':') return NULL;
            q++;
            while (*q == ' ') q++;
            return q;
        }
    }
    return NULL;
}

/* Read the header and data of a 4-byte-element .npy with dtype descr (e.g. "<f4"). */
static inline void *npy_read4(const char *path, const char *descr, int *ndim, long shape[4]) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "npy: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    unsigned char pre[12];
    char *dict = NULL;
    void *data = NULL;
    const char *why = NULL;
    long hlen = 0, n = 1, start, fsize;
    long sh[NPY_MAX_DIMS] = {1, 1, 1, 1};
    size_t prelen = 10, dl = strlen(descr);
    const char *v;
    int nd = 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        why = "not a .npy file (bad magic)";
        goto fail;
    }
    if (pre[6] == 1 && pre[7] == 0) {
        hlen = pre[8] | (long)pre[9] << 8;
    } else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            why = "truncated header";
            goto fail;
        }
        hlen = pre[8] | (long)pre[9] << 8 | (long)pre[10] << 16 | (long)pre[11] << 24;
        prelen = 12;
    } else {
        why = "unsupported format version";
        goto fail;
    }
    if (hlen <= 0 || hlen > (1L << 20)) {
        why = "bad header length";
        goto fail;
    }
    dict = (char *)malloc((size_t)hlen + 1);
    if (!dict) {
        why = "out of memory";
        goto fail;
    }
    if (fread(dict, 1, (size_t)hlen, f) != (size_t)hlen) {
        why = "truncated header";
        goto fail;
    }
    dict[hlen] = '\0';
    if (dict[hlen - 1] != '\n') {
        why = "header does not end in a newline";
        goto fail;
    }
    for (long i = 0; i < hlen; i++)
        if (dict[i] == '\0') {
            why = "NUL in header";
            goto fail;
        }
    v = npy_dict_value(dict, "descr");
    if (!v || (*v != '\'' && *v != '"')) {
        why = "header has no 'descr'";
        goto fail;
    }
    if (strncmp(v + 1, descr, dl) != 0 || v[1 + dl] != *v) {
        const char *e = strchr(v + 1, *v);
        fprintf(stderr, "npy: %s: dtype %.*s is not the expected '%s'\n", path,
                e ? (int)(e - v + 1) : 8, v, descr);
        why = "";
        goto fail;
    }
    v = npy_dict_value(dict, "fortran_order");
    if (!v) {
        why = "header has no 'fortran_order'";
        goto fail;
    }
    if (strncmp(v, "False", 5) != 0) {
        why = "Fortran order is not supported";
        goto fail;
    }
    v = npy_dict_value(dict, "shape");
    if (!v || *v != '(') {
        why = "header has no 'shape' tuple";
        goto fail;
    }
    v++;
    for (;;) {
        while (*v == ' ') v++;
        if (*v == ')') break;
        if (*v < '0' || *v > '9') {
            why = "malformed shape";
            goto fail;
        }
        if (nd == NPY_MAX_DIMS) {
            why = "more than 4 dimensions";
            goto fail;
        }
        char *end;
        errno = 0;
        long d = strtol(v, &end, 10);
        if (errno || d < 0 || (d > 0 && n > (LONG_MAX / 4) / d)) {
            why = "shape too large";
            goto fail;
        }
        sh[nd++] = d;
        n *= d;
        v = end;
        while (*v == ' ') v++;
        if (*v == ',') v++;
        else if (*v != ')') {
            why = "malformed shape";
            goto fail;
        }
    }
    /* the data must be exactly the rest of the file */
    start = (long)prelen + hlen;
    if (fseek(f, 0, SEEK_END) != 0) {
        why = "cannot seek";
        goto fail;
    }
    fsize = ftell(f);
    if (fsize < 0 || fsize - start != 4 * n) {
        fprintf(stderr, "npy: %s: %ld data bytes, shape needs %ld\n", path, fsize - start, 4 * n);
        why = "";
        goto fail;
    }
    if (fseek(f, start, SEEK_SET) != 0) {
        why = "cannot seek";
        goto fail;
    }
    data = malloc(n > 0 ? (size_t)(4 * n) : 4);
    if (!data) {
        why = "out of memory";
        goto fail;
    }
    if (n > 0 && fread(data, 4, (size_t)n, f) != (size_t)n) {
        why = "read error";
        goto fail;
    }
    if (!npy_host_is_le()) npy_swap4(data, n);
    fclose(f);
    free(dict);
    *ndim = nd;
    for (int i = 0; i < NPY_MAX_DIMS; i++) shape[i] = sh[i];
    return data;
fail:
    if (why && *why) fprintf(stderr, "npy: %s: %s\n", path, why);
    fclose(f);
    free(dict);
    free(data);
    return NULL;
}

static inline float *npy_read_f32(const char *path, int *ndim, long shape[4]) {
    return (float *)npy_read4(path, "<f4", ndim, shape);
}

static inline int32_t *npy_read_i32(const char *path, int *ndim, long shape[4]) {
    return (int32_t *)npy_read4(path, "<i4", ndim, shape);
}

#endif
