/* fuzz_ckpt_framed.c - libFuzzer target: checkpoint files whose checksums are repaired
 * before tf_ckpt_load() sees them, so mutations reach the manifest, record and footer
 * validation instead of stopping at the first CRC-32C mismatch.
 *
 * The input is read as a checkpoint (docs/checkpoints.md): 16-byte header, then frames
 * (u32le length, u32le crc32c, payload). The harness keeps every byte the fuzzer chose but
 * (1) writes the real magic and header checksum, (2) clamps each frame length to what is
 * left and recomputes the frame checksum, (3) when the manifest unpacks, sets each tensor's
 * crc32c (in the manifest and in its TensorRecord) to the checksum of the payload bytes that
 * follow, and (4) when the footer unpacks, makes it vouch for this manifest, tensor count,
 * payload size and offset, and (5) sets the manifest's config_hash to the FNV-1a 64 of its
 * config text. Lengths, shapes, names, dtypes, counts and indices stay as the fuzzer wrote
 * them. Protobuf messages are re-packed with protobuf-c (the generated code of
 * proto/checkpoint.proto). Same follow-up as fuzz_ckpt.c (ckpt_use.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.pb-c.h"
#include "ckpt_use.h"
#include "fuzz_common.h"

/* CRC-32C (Castagnoli, reflected 0x82F63B78), bitwise table; the format's checksum. */
static uint32_t crc32c(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int built;
    if (!built) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
            table[i] = c;
        }
        built = 1;
    }
    uint32_t c = 0xffffffffu;
    while (n--) c = (c >> 8) ^ table[(c ^ *p++) & 0xff];
    return ~c;
}

static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

typedef struct {
    uint8_t *b;
    size_t n, cap;
} Buf;

static void put(Buf *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        size_t cap = (o->n + n) * 2 + 64;
        uint8_t *nb = realloc(o->b, cap);
        if (!nb) abort();
        o->b = nb, o->cap = cap;
    }
    if (n) memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_frame(Buf *o, const uint8_t *p, size_t n) {
    uint8_t h[8];
    put_le32(h, (uint32_t)n);
    put_le32(h + 4, crc32c(p, n));
    put(o, h, 8);
    put(o, p, n);
}

/* The next frame of the input: payload and length (clamped to what is left); 0 at the end. */
static int take_frame(const uint8_t *in, size_t size, size_t *pos, const uint8_t **payload, size_t *len) {
    if (size - *pos < 8) return 0;
    size_t want = get_le32(in + *pos), left = size - *pos - 8;
    *len = want < left ? want : left;
    *payload = in + *pos + 8;
    *pos += 8 + *len;
    return 1;
}

/* Rebuild the input with repaired checksums into o (see the file comment). */
static void repair(const uint8_t *in, size_t size, Buf *o) {
    static const uint8_t magic[8] = {0x89, 'T', 'F', 'C', 'K', 'P', 'T', '\n'};
    uint8_t head[16];
    memcpy(head, magic, 8);
    put_le32(head + 8, size >= 12 ? get_le32(in + 8) : 1u);
    put_le32(head + 12, crc32c(head, 12));
    put(o, head, 16);
    size_t pos = size < 16 ? size : 16;
    const uint8_t *mp;
    size_t mlen;
    if (!take_frame(in, size, &pos, &mp, &mlen)) { put(o, in + pos, size - pos); return; }
    Tinyflow__Ckpt__Manifest *man = tinyflow__ckpt__manifest__unpack(NULL, mlen, mp);
    if (!man) {
        /* Not a manifest: still repair the frames that follow. */
        put_frame(o, mp, mlen);
        const uint8_t *p;
        size_t n;
        while (take_frame(in, size, &pos, &p, &n)) put_frame(o, p, n);
        put(o, in + pos, size - pos);
        return;
    }
    /* Records and payloads, repaired into `body`; the manifest is re-packed after them. */
    Buf body = {0};
    uint64_t payload_bytes = 0;
    for (size_t i = 0; i < man->n_tensors && i < 70000; i++) {
        const uint8_t *rp;
        size_t rlen;
        if (!take_frame(in, size, &pos, &rp, &rlen)) break;
        Tinyflow__Ckpt__TensorInfo *info = man->tensors[i];
        uint64_t nb = info ? info->nbytes : 0;
        size_t left = size - pos, take = nb < left ? (size_t)nb : left;
        uint32_t crc = crc32c(in + pos, take);
        if (info) info->crc32c = crc;
        payload_bytes += nb;
        Tinyflow__Ckpt__TensorRecord *rec = tinyflow__ckpt__tensor_record__unpack(NULL, rlen, rp);
        if (rec && rec->info) {
            rec->info->crc32c = crc;
            size_t n = tinyflow__ckpt__tensor_record__get_packed_size(rec);
            uint8_t *pb = malloc(n ? n : 1);
            if (!pb) abort();
            tinyflow__ckpt__tensor_record__pack(rec, pb);
            put_frame(&body, pb, n);
            free(pb);
        } else {
            put_frame(&body, rp, rlen);
        }
        if (rec) tinyflow__ckpt__tensor_record__free_unpacked(rec, NULL);
        put(&body, in + pos, take);
        pos += take;
    }
    /* config_hash: FNV-1a 64 of config_text in hex (packed from a local, then restored so
     * free_unpacked frees what unpack allocated). */
    char hash[17];
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *c = (const unsigned char *)(man->config_text ? man->config_text : ""); *c; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
    char *saved_hash = man->config_hash;
    man->config_hash = hash;
    size_t mn = tinyflow__ckpt__manifest__get_packed_size(man);
    uint8_t *mb = malloc(mn ? mn : 1);
    if (!mb) abort();
    tinyflow__ckpt__manifest__pack(man, mb);
    man->config_hash = saved_hash;
    put_frame(o, mb, mn);
    uint32_t mcrc = crc32c(mb, mn);
    size_t n_tensors = man->n_tensors;
    free(mb);
    tinyflow__ckpt__manifest__free_unpacked(man, NULL);
    put(o, body.b, body.n);
    free(body.b);
    const uint8_t *fp;
    size_t flen;
    if (!take_frame(in, size, &pos, &fp, &flen)) { put(o, in + pos, size - pos); return; }
    Tinyflow__Ckpt__Footer *foot = tinyflow__ckpt__footer__unpack(NULL, flen, fp);
    if (foot) {
        foot->tensor_count = (uint32_t)n_tensors;
        foot->manifest_crc32c = mcrc;
        foot->payload_bytes = payload_bytes;
        foot->footer_offset = o->n;
        size_t n = tinyflow__ckpt__footer__get_packed_size(foot);
        uint8_t *pb = malloc(n ? n : 1);
        if (!pb) abort();
        tinyflow__ckpt__footer__pack(foot, pb);
        put_frame(o, pb, n);
        free(pb);
        tinyflow__ckpt__footer__free_unpacked(foot, NULL);
    } else {
        put_frame(o, fp, flen);
    }
    put(o, in + pos, size - pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    Buf o = {0};
    repair(data, size, &o);
    const char *path = tf_fuzz_file(0, o.b, o.n);
    free(o.b);
    tf_fuzz_ckpt_use(path);
    return 0;
}
