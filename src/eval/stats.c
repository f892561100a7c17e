/* stats.c - float64 mean/covariance accumulation, Chan merges, the plain-sum form for
 * allreduce, and the .tfstats cache file (see stats.h). Must not know about models,
 * datasets, MPI or FID. */
#include "eval/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/check.h"
#include "core/fileio.h"

#define CHUNK 512 /* rows reduced at once by tf_stats_add */

void tf_stats_init(TfStats *s, int d) {
    if (d < 1 || d > TF_STATS_MAX_DIM) tf_die("statistics: feature dimension %d outside 1..%d", d, TF_STATS_MAX_DIM);
    s->d = d;
    s->n = 0;
    s->mean = tf_calloc((size_t)d, sizeof(double));
    s->m2 = tf_calloc((size_t)d * d, sizeof(double));
}

void tf_stats_free(TfStats *s) {
    free(s->mean);
    free(s->m2);
    memset(s, 0, sizeof *s);
}

void tf_stats_reset(TfStats *s) {
    s->n = 0;
    memset(s->mean, 0, sizeof(double) * (size_t)s->d);
    memset(s->m2, 0, sizeof(double) * (size_t)s->d * s->d);
}

/* Chan's update with the second state given as (nb, mean_b, M2b). */
static void merge_parts(TfStats *a, double nb, const double *mb, const double *m2b) {
    const int d = a->d;
    if (nb <= 0) return;
    if (a->n <= 0) {
        a->n = nb;
        memcpy(a->mean, mb, sizeof(double) * (size_t)d);
        memcpy(a->m2, m2b, sizeof(double) * (size_t)d * d);
        return;
    }
    const double n = a->n + nb, f = a->n * nb / n;
    double *delta = tf_malloc(sizeof(double) * (size_t)d);
    for (int i = 0; i < d; i++) delta[i] = mb[i] - a->mean[i];
#pragma omp parallel for schedule(static)
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) a->m2[(size_t)i * d + j] += m2b[(size_t)i * d + j] + delta[i] * delta[j] * f;
    for (int i = 0; i < d; i++) a->mean[i] += delta[i] * (nb / n);
    a->n = n;
    free(delta);
}

void tf_stats_merge(TfStats *into, const TfStats *b) {
    if (into->d != b->d) tf_die("statistics: cannot merge dimension %d into %d", b->d, into->d);
    merge_parts(into, b->n, b->mean, b->m2);
}

void tf_stats_add(TfStats *s, const float *x, int n) {
    const int d = s->d;
    if (n <= 0) return;
    double *mean = tf_malloc(sizeof(double) * (size_t)d);
    double *ct = tf_malloc(sizeof(double) * (size_t)d * CHUNK); /* centred chunk, transposed [d][rows] */
    double *m2 = tf_malloc(sizeof(double) * (size_t)d * d);
    for (int r0 = 0; r0 < n; r0 += CHUNK) {
        const int m = n - r0 < CHUNK ? n - r0 : CHUNK;
        const float *xc = x + (size_t)r0 * d;
        for (int r = 0; r < m; r++)
            for (int i = 0; i < d; i++)
                if (!isfinite(xc[(size_t)r * d + i]))
                    tf_die_hint("the features came from non-finite inputs (diverged samples?)",
                                "statistics: feature %d of row %d is not finite", i, r0 + r);
        for (int i = 0; i < d; i++) {
            double acc = 0;
            for (int r = 0; r < m; r++) acc += xc[(size_t)r * d + i];
            mean[i] = acc / m;
            for (int r = 0; r < m; r++) ct[(size_t)i * m + r] = xc[(size_t)r * d + i] - mean[i];
        }
#pragma omp parallel for schedule(dynamic, 8)
        for (int i = 0; i < d; i++) {
            const double *ci = ct + (size_t)i * m;
            for (int j = 0; j <= i; j++) {
                const double *cj = ct + (size_t)j * m;
                double acc = 0;
                for (int r = 0; r < m; r++) acc += ci[r] * cj[r];
                m2[(size_t)i * d + j] = acc;
                m2[(size_t)j * d + i] = acc;
            }
        }
        merge_parts(s, (double)m, mean, m2);
    }
    free(mean);
    free(ct);
    free(m2);
}

void tf_stats_covariance(const TfStats *s, double *cov) {
    if (s->n < 2) tf_die_hint("score at least 2 samples (FID needs thousands)", "statistics: covariance of %.0f rows", s->n);
    const size_t dd = (size_t)s->d * s->d;
    for (size_t k = 0; k < dd; k++) cov[k] = s->m2[k] / (s->n - 1);
}

size_t tf_stats_sums_len(int d) { return 1 + (size_t)d + (size_t)d * d; }

void tf_stats_to_sums(const TfStats *s, const double *c, double *buf) {
    const int d = s->d;
    buf[0] = s->n;
    double *sv = buf + 1, *S = buf + 1 + d;
    for (int i = 0; i < d; i++) sv[i] = s->n * (s->mean[i] - c[i]);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            S[(size_t)i * d + j] = s->m2[(size_t)i * d + j] + s->n * (s->mean[i] - c[i]) * (s->mean[j] - c[j]);
}

void tf_stats_from_sums(TfStats *s, const double *c, const double *buf) {
    const int d = s->d;
    const double N = buf[0], *sv = buf + 1, *S = buf + 1 + d;
    s->n = N;
    if (N <= 0) { tf_stats_reset(s); return; }
    for (int i = 0; i < d; i++) s->mean[i] = c[i] + sv[i] / N;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) s->m2[(size_t)i * d + j] = S[(size_t)i * d + j] - sv[i] * sv[j] / N;
}

/* ---- cache file -------------------------------------------------------------------------- */
static const char k_magic[8] = {'T', 'F', 'S', 'T', 'A', 'T', 'S', '\n'};
#define STATS_VERSION 1u
#define HEADER_BYTES (8 + 4 * 4 + 8)

static int host_le(void) {
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int fail(char *err, size_t cap, const char *path, const char *what) {
    snprintf(err, cap, "%s: %s", path, what);
    return -1;
}

int tf_stats_save(const char *path, const TfStats *s, const char *tag, const float *feat, int n_feat, char *err,
                  size_t cap) {
    if (!host_le()) return fail(err, cap, path, "statistics files are little-endian; this host is not");
    const size_t taglen = strlen(tag ? tag : "");
    if (taglen > 255) return fail(err, cap, path, "tag longer than 255 bytes");
    if (n_feat < 0) return fail(err, cap, path, "negative feature count");
    const size_t d = (size_t)s->d, bytes = HEADER_BYTES + taglen + 8 * (d + d * d) + 4 * d * (size_t)n_feat;
    unsigned char *buf = tf_malloc(bytes + 4), *p = buf;
    uint32_t hdr[4] = {STATS_VERSION, (uint32_t)s->d, (uint32_t)taglen, (uint32_t)n_feat};
    memcpy(p, k_magic, 8), p += 8;
    memcpy(p, hdr, sizeof hdr), p += sizeof hdr;
    memcpy(p, &s->n, 8), p += 8;
    memcpy(p, tag ? tag : "", taglen), p += taglen;
    memcpy(p, s->mean, 8 * d), p += 8 * d;
    memcpy(p, s->m2, 8 * d * d), p += 8 * d * d;
    if (n_feat) memcpy(p, feat, 4 * d * (size_t)n_feat), p += 4 * d * (size_t)n_feat;
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)0);
    for (size_t off = 0; off < bytes;) { /* zlib's length is a uInt: feed it in pieces */
        size_t k = bytes - off > (1u << 30) ? (1u << 30) : bytes - off;
        crc = (uint32_t)crc32(crc, buf + off, (uInt)k);
        off += k;
    }
    memcpy(p, &crc, 4);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = tf_fopen_new(tmp);
    int rc = 0;
    if (!f) {
        snprintf(err, cap, "%s: cannot create: %s", tmp, strerror(errno));
        rc = -1;
    } else {
        int bad = fwrite(buf, 1, bytes + 4, f) != bytes + 4 || fflush(f) != 0 || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path) != 0) {
            snprintf(err, cap, "%s: cannot write: %s", path, strerror(errno));
            unlink(tmp);
            rc = -1;
        }
    }
    free(buf);
    return rc;
}

int tf_stats_load(const char *path, TfStats *s, char *tag, size_t tagcap, float **feat, int *n_feat, char *err,
                  size_t cap) {
    memset(s, 0, sizeof *s);
    if (feat) *feat = NULL;
    if (n_feat) *n_feat = 0;
    if (!host_le()) return fail(err, cap, path, "statistics files are little-endian; this host is not");
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    unsigned char head[HEADER_BYTES];
    if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, k_magic, 8)) {
        fclose(f);
        return fail(err, cap, path, "not a tinyflow statistics file (bad magic or too short)");
    }
    uint32_t hdr[4];
    double n;
    memcpy(hdr, head + 8, sizeof hdr);
    memcpy(&n, head + 8 + sizeof hdr, 8);
    if (hdr[0] != STATS_VERSION || hdr[1] < 1 || hdr[1] > TF_STATS_MAX_DIM || hdr[2] > 255 ||
        hdr[3] > (1u << 28) / hdr[1] || !(n >= 0)) {
        fclose(f);
        return fail(err, cap, path, "unsupported version or implausible header (delete the file to recompute it)");
    }
    const size_t d = hdr[1], taglen = hdr[2], nf = hdr[3];
    const size_t body = taglen + 8 * (d + d * d) + 4 * d * nf;
    /* The file must be exactly as long as the header says BEFORE anything that size is
     * allocated (fuzz/fuzz_stats). */
    long fsize = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (fsize < 0 || (size_t)fsize != HEADER_BYTES + body + 4 || fseek(f, HEADER_BYTES, SEEK_SET) != 0) {
        fclose(f);
        return fail(err, cap, path, "truncated or has trailing bytes");
    }
    unsigned char *buf = tf_malloc(HEADER_BYTES + body + 4);
    memcpy(buf, head, HEADER_BYTES);
    size_t got = fread(buf + HEADER_BYTES, 1, body + 4, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != body + 4 || extra) { free(buf); return fail(err, cap, path, "truncated or has trailing bytes"); }
    uint32_t crc = (uint32_t)crc32(0L, buf, 0), stored;
    for (size_t off = 0; off < HEADER_BYTES + body;) {
        size_t k = HEADER_BYTES + body - off > (1u << 30) ? (1u << 30) : HEADER_BYTES + body - off;
        crc = (uint32_t)crc32(crc, buf + off, (uInt)k);
        off += k;
    }
    memcpy(&stored, buf + HEADER_BYTES + body, 4);
    if (crc != stored) { free(buf); return fail(err, cap, path, "checksum mismatch (corrupted; delete it to recompute)"); }
    const unsigned char *p = buf + HEADER_BYTES;
    if (tag && tagcap) snprintf(tag, tagcap, "%.*s", (int)taglen, (const char *)p);
    p += taglen;
    tf_stats_init(s, (int)d);
    s->n = n;
    memcpy(s->mean, p, 8 * d), p += 8 * d;
    memcpy(s->m2, p, 8 * d * d), p += 8 * d * d;
    if (feat && nf) {
        *feat = tf_malloc(4 * d * nf);
        memcpy(*feat, p, 4 * d * nf);
        if (n_feat) *n_feat = (int)nf;
    }
    free(buf);
    return 0;
}
