/* test_ckpt_corrupt.c - the loader refuses every damaged or hostile file with a message
 * naming the file and the part at fault, and never crashes: truncation at every record
 * boundary and at random offsets, bit flips (tensor data -> that tensor is named, manifest,
 * header, footer, random), swapped records, wrong magic/version, crafted absurd lengths,
 * shapes, names and counts; the dying wrapper's exit codes are checked under fork. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.pb-c.h"
#include "ckpt/ckpt.h"
#include "ckpt/ckpt_internal.h"
#include "tf_child.h"
#include "tf_test.h"

static char g_dir[] = "/tmp/tf_ckpt_bad_XXXXXX";
static char g_path[4200];


static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Load these bytes as a file; 0 on success. err gets the message. */
static int try_load(const unsigned char *p, size_t n, char *err, size_t cap) {
    if (write_file(g_path, p, n)) { snprintf(err, cap, "test: cannot write the file"); return 0; }
    TfCkpt *ck = NULL;
    err[0] = '\0';
    int rc = tf_ckpt_load(g_path, &ck, err, cap);
    if ((rc == 0) != (ck != NULL)) return 0; /* inconsistent: count as "loaded" so the check fails */
    tf_ckpt_free(ck);
    return rc;
}

/* A header + manifest frame (+ extra bytes) with valid checksums around a crafted manifest. */
static size_t craft(unsigned char *out, size_t cap, uint32_t version, const Tinyflow__Ckpt__Manifest *m) {
    size_t len = tinyflow__ckpt__manifest__get_packed_size(m);
    if (24 + len > cap) return 0;
    memcpy(out, TF_CKPT_MAGIC, 8);
    tf_put_le32(out + 8, version);
    tf_put_le32(out + 12, tf_crc32c_extend(0, out, 12));
    tinyflow__ckpt__manifest__pack(m, out + 24);
    tf_put_le32(out + 16, (uint32_t)len);
    tf_put_le32(out + 20, tf_crc32c_extend(0, out + 24, len));
    return 24 + len;
}

static const char *NAMES[6] = {"param/a", "param/big", "adam_m/a", "adam_m/big", "ema/a", "ema/big"};
static const size_t NUMEL[6] = {12, 1000, 12, 1000, 12, 1000};

int main(void) {
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    snprintf(g_path, sizeof g_path, "%s/x.ckpt", g_dir);
    TfCkptTensor t[6];
    float *buf = malloc(3036 * sizeof(float));
    for (int i = 0; i < 3036; i++) buf[i] = (float)i * 0.25f - 7.0f;
    size_t off = 0;
    for (int k = 0; k < 6; k++) {
        t[k] = (TfCkptTensor){NAMES[k], NUMEL[k] == 12 ? 2 : 1, {0}, NUMEL[k], buf + off, 0};
        if (NUMEL[k] == 12) { t[k].shape[0] = 4; t[k].shape[1] = 3; }
        else t[k].shape[0] = 1000;
        off += NUMEL[k];
    }
    TfCkptMeta meta = {.arch = "mlp", .config_text = "model:\n  name: mlp\n", .step = 5, .world_size = 1};
    char err[2048], path[4200];
    CHECK_MSG(tf_ckpt_save(g_dir, &meta, t, 6, path, sizeof path, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(path, "rb");
    unsigned char *good = malloc(1 << 16), *work = malloc(1 << 16);
    size_t n = f ? fread(good, 1, 1 << 16, f) : 0;
    if (f) fclose(f);
    CHECK(n > 12000);
    CHECK(try_load(good, n, err, sizeof err) == 0);

    /* Record boundaries from the layout: header, manifest, per tensor record + data, footer. */
    size_t bound[32], data_at[6], rec_at[6], nb = 0, pos = 16, man_at = 24;
    bound[nb++] = 0;
    bound[nb++] = 8;
    bound[nb++] = 16;
    pos += 8 + tf_get_le32(good + pos);
    bound[nb++] = pos;
    for (int k = 0; k < 6; k++) {
        rec_at[k] = pos;
        pos += 8 + tf_get_le32(good + pos);
        bound[nb++] = pos;
        data_at[k] = pos;
        pos += NUMEL[k] * 4;
        bound[nb++] = pos;
    }
    size_t foot_at = pos;
    pos += 8 + tf_get_le32(good + pos);
    CHECK(pos == n); /* the footer ends the file */

    /* Truncation at every record boundary (and one byte either side), then random offsets. */
    int all_rejected = 1, named = 1;
    for (size_t b = 0; b < nb; b++)
        for (int d = -1; d <= 1; d++) {
            if ((d < 0 && bound[b] == 0) || bound[b] + (size_t)(d + 1) > n) continue;
            size_t cut = bound[b] + (size_t)d;
            if (try_load(good, cut, err, sizeof err) != -1) { all_rejected = 0; fprintf(stderr, "cut %zu loaded\n", cut); }
            int ok = strstr(err, g_path) != NULL && (strstr(err, "truncated") || strstr(err, "too short"));
            if (!ok) fprintf(stderr, "cut %zu: %s\n", cut, err);
            named &= ok;
        }
    CHECK(all_rejected);
    CHECK_MSG(named, "last message: %s", err);
    srand(1234);
    all_rejected = 1;
    for (int r = 0; r < 150; r++) {
        size_t cut = (size_t)rand() % n;
        all_rejected &= try_load(good, cut, err, sizeof err) == -1;
    }
    CHECK(all_rejected);
    /* Truncated inside tensor data: the message names the tensor. */
    CHECK_MSG(try_load(good, data_at[3] + 100, err, sizeof err) == -1 && strstr(err, "'adam_m/big'") && strstr(err, "truncated"), "%s", err);
    CHECK(try_load(good, foot_at, err, sizeof err) == -1 && strstr(err, "footer"));

    /* A flipped bit in each tensor's data names exactly that tensor. */
    for (int k = 0; k < 6; k++) {
        memcpy(work, good, n);
        work[data_at[k] + (NUMEL[k] * 4) / 2] ^= 0x10;
        CHECK(try_load(work, n, err, sizeof err) == -1);
        char want[64];
        snprintf(want, sizeof want, "tensor '%s'", NAMES[k]);
        CHECK_MSG(strstr(err, want) && strstr(err, "corrupted"), "flip in %s: %s", NAMES[k], err);
    }
    /* In the manifest, the header, a tensor record, the footer. */
    memcpy(work, good, n);
    work[man_at + 5] ^= 1;
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "manifest") && strstr(err, "corrupted"));
    memcpy(work, good, n);
    work[10] ^= 4;
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "header is corrupted"));
    memcpy(work, good, n);
    work[rec_at[4] + 12] ^= 2;
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "'ema/a'"));
    memcpy(work, good, n);
    work[foot_at + 9] ^= 0x80;
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "footer"));
    /* Random single-bit flips anywhere: all detected (CRC-32C catches every 1-bit error). */
    all_rejected = 1;
    for (int r = 0; r < 300; r++) {
        memcpy(work, good, n);
        size_t at = (size_t)rand() % n;
        work[at] ^= (unsigned char)(1u << (rand() % 8));
        if (try_load(work, n, err, sizeof err) != -1) { all_rejected = 0; fprintf(stderr, "flip at %zu loaded\n", at); }
    }
    CHECK(all_rejected);

    /* Structure-aware mutation (a small fuzz pass, meant for ASan/UBSan builds): random bytes
     * of the manifest changed and every checksum repaired, so the protobuf parser and the
     * field checks see hostile content. Whatever loads must be self-consistent. */
    size_t mlen = tf_get_le32(good + 16);
    int consistent = 1, accepted = 0;
    for (int r = 0; r < 400; r++) {
        memcpy(work, good, n);
        int k = 1 + rand() % 4;
        for (int j = 0; j < k; j++) work[24 + (size_t)rand() % mlen] = (unsigned char)rand();
        uint32_t mc = tf_crc32c_extend(0, work + 24, mlen);
        tf_put_le32(work + 20, mc);
        Tinyflow__Ckpt__Footer *ft = tinyflow__ckpt__footer__unpack(NULL, tf_get_le32(work + foot_at), work + foot_at + 8);
        if (!ft) { consistent = 0; break; }
        ft->manifest_crc32c = mc;
        size_t fl = tinyflow__ckpt__footer__pack(ft, work + foot_at + 8);
        tinyflow__ckpt__footer__free_unpacked(ft, NULL);
        tf_put_le32(work + foot_at + 4, tf_crc32c_extend(0, work + foot_at + 8, fl));
        if (try_load(work, n, err, sizeof err) == 0) {
            accepted++;
            TfCkpt *c = NULL;
            consistent &= tf_ckpt_load(g_path, &c, err, sizeof err) == 0 && c->n_tensors == 6 &&
                          memcmp(c->tensors[5].data, good + data_at[5], 4000) == 0;
            tf_ckpt_free(c);
        } else {
            consistent &= strstr(err, g_path) != NULL;
        }
    }
    CHECK(consistent);
    printf("mutation pass: %d of 400 mutated manifests still valid (e.g. a changed step)\n", accepted);

    /* Two records of the same size swapped (each internally valid): caught by the manifest. */
    size_t len_a = data_at[0] + 48 - rec_at[0];
    memcpy(work, good, n);
    memcpy(work + rec_at[0], good + rec_at[2], len_a);
    memcpy(work + rec_at[2], good + rec_at[0], len_a);
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "does not match the manifest") && strstr(err, "'param/a'"));
    /* A tensor record from another checkpoint (same name and shape, other values). */
    buf[3] += 1.0f;
    char dir2[] = "/tmp/tf_ckpt_bad2_XXXXXX";
    if (mkdtemp(dir2)) {
        char path2[4200];
        CHECK(tf_ckpt_save(dir2, &meta, t, 6, path2, sizeof path2, err, sizeof err) == 0);
        f = fopen(path2, "rb");
        size_t n2 = f ? fread(work, 1, 1 << 16, f) : 0;
        if (f) fclose(f);
        CHECK(n2 == n);
        unsigned char *mix = malloc(n);
        memcpy(mix, good, n);
        memcpy(mix + rec_at[0], work + rec_at[0], data_at[0] + 48 - rec_at[0]);
        CHECK(try_load(mix, n, err, sizeof err) == -1 && strstr(err, "'param/a'"));
        free(mix);
        tf_rm_dir(dir2);
    }

    /* Trailing bytes, wrong magic, other versions, empty and tiny files, a directory. */
    memcpy(work, good, n);
    work[n] = 0;
    CHECK(try_load(work, n + 1, err, sizeof err) == -1 && strstr(err, "after the footer"));
    memcpy(work, good, n);
    memcpy(work, "PK\x03\x04", 4);
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "not a tinyflow checkpoint"));
    memcpy(work, good, n);
    tf_put_le32(work + 8, 2);
    tf_put_le32(work + 12, tf_crc32c_extend(0, work, 12));
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "format version 2") && strstr(err, "newer"));
    CHECK(try_load(good, 0, err, sizeof err) == -1 && strstr(err, "too short"));
    CHECK(try_load(good, 3, err, sizeof err) == -1);
    TfCkpt *ck = NULL;
    CHECK(tf_ckpt_load(g_dir, &ck, err, sizeof err) == -1 && ck == NULL && strstr(err, "not a regular file"));
    CHECK(tf_ckpt_load("/nonexistent/tf.ckpt", &ck, err, sizeof err) == -1 && strstr(err, "cannot open"));

    /* Absurd frame lengths. */
    memcpy(work, good, n);
    tf_put_le32(work + 16, 0xFFFFFFF0u);
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "over the") && strstr(err, "limit"));
    memcpy(work, good, n);
    tf_put_le32(work + 16, 8u << 20);
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "truncated"));
    memcpy(work, good, n);
    tf_put_le32(work + rec_at[1], 0x7fffffffu);
    CHECK(try_load(work, n, err, sizeof err) == -1 && strstr(err, "'param/big'") && strstr(err, "limit"));

    /* Crafted manifests with valid checksums: every field is checked before use. */
    uint32_t shape_huge[4] = {2147483647u, 2147483647u, 2147483647u, 2147483647u}, shape_ok[2] = {4, 3},
             shape5[5] = {1, 1, 1, 1, 1};
    Tinyflow__Ckpt__TensorInfo ti = TINYFLOW__CKPT__TENSOR_INFO__INIT, *tip = &ti;
    Tinyflow__Ckpt__Manifest m = TINYFLOW__CKPT__MANIFEST__INIT;
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)tf_ckpt_config_hash(""));
    m.format_version = 1;
    m.tinyflow_version = "\x1b]0;evil\x07";
    m.arch = "mlp";
    size_t len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "tinyflow version"));
    m.tinyflow_version = "0.1.0";
    m.config_hash = hash;
    m.n_tensors = 1;
    m.tensors = &tip;
    ti.name = "param/a";
    ti.dtype = TINYFLOW__CKPT__DTYPE__DTYPE_F32;
    /* (a) a shape whose element count overflows */
    ti.n_shape = 4; ti.shape = shape_huge; ti.nbytes = 16;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "more elements than"));
    /* (b) bytes inconsistent with the shape */
    ti.n_shape = 2; ti.shape = shape_ok; ti.nbytes = 44;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "claims 44 bytes"));
    /* (c) 5 dims, (d) wrong dtype */
    ti.n_shape = 5; ti.shape = shape5; ti.nbytes = 4;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "5 dims"));
    ti.n_shape = 2; ti.shape = shape_ok; ti.nbytes = 48; ti.dtype = TINYFLOW__CKPT__DTYPE__DTYPE_UNSPECIFIED;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "dtype"));
    ti.dtype = TINYFLOW__CKPT__DTYPE__DTYPE_F32;
    /* (e) names: control bytes, path-like, too long */
    ti.name = "param/\x1b[31mred";
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "non-printable") && !strchr(err, 0x1b));
    ti.name = "../../etc/passwd";
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "group/name"));
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    memcpy(longname, "param/", 6);
    longname[sizeof longname - 1] = '\0';
    ti.name = longname;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "the limit is"));
    ti.name = "param/a";
    /* (f) duplicate names, (g) too many tensors, (h) config hash, (i) version disagreement */
    Tinyflow__Ckpt__TensorInfo *two[2] = {&ti, &ti};
    m.tensors = two;
    m.n_tensors = 2;
    len = craft(work, 1 << 16, 1, &m);
    memset(work + len, 0, 256); /* room for the two tensors, so the count check is not what fires */
    CHECK_MSG(try_load(work, len + 256, err, sizeof err) == -1 && strstr(err, "listed twice"), "%s", err);
    Tinyflow__Ckpt__TensorInfo **many = malloc((TF_CKPT_MAX_TENSORS + 1) * sizeof *many);
    unsigned char *big = malloc(4u << 20);
    for (int i = 0; i <= TF_CKPT_MAX_TENSORS; i++) many[i] = &ti;
    m.tensors = many;
    m.n_tensors = TF_CKPT_MAX_TENSORS + 1;
    len = craft(big, 4u << 20, 1, &m);
    CHECK(len > 0 && try_load(big, len, err, sizeof err) == -1 && strstr(err, "65537 tensors"));
    free(many);
    free(big);
    m.tensors = &tip;
    m.n_tensors = 1;
    m.config_text = "model: {}\n";
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "config hash"));
    m.config_text = "";
    m.format_version = 7;
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "format version 7"));
    m.format_version = 1;
    /* (j) a valid manifest and then nothing: truncated at the first record, named. */
    len = craft(work, 1 << 16, 1, &m);
    CHECK(try_load(work, len, err, sizeof err) == -1 && strstr(err, "'param/a'") && strstr(err, "truncated"));
    /* (k) bytes that are not a protobuf message, with a valid frame checksum */
    memcpy(work, good, 16);
    memset(work + 24, 0xff, 64);
    tf_put_le32(work + 16, 64);
    tf_put_le32(work + 20, tf_crc32c_extend(0, work + 24, 64));
    CHECK(try_load(work, 88, err, sizeof err) == -1 && strstr(err, "not a valid Manifest"));

    /* The dying wrapper: exit 1 with the message on a bad file, returns on a good one. */
    memcpy(work, good, n);
    work[data_at[1] + 7] ^= 1;
    write_file(g_path, work, n);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        TfCkpt *c = tf_ckpt_load_or_die(g_path);
        tf_ckpt_free(c);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    pid = fork();
    if (pid == 0) {
        TfCkpt *c = tf_ckpt_load_or_die(path);
        _exit(c && c->n_tensors == 6 ? 0 : 3);
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    free(buf);
    free(good);
    free(work);
    tf_rm_dir(g_dir);
    return tf_test_finish("test_ckpt_corrupt");
}
