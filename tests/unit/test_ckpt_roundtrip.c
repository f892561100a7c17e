/* test_ckpt_roundtrip.c - checkpoints: checksums against published vectors, a bitwise round
 * trip of tensors and run state, lookup, re-saving a step, input validation on save, and
 * the inspector. Knows nothing about models: tensors are made-up named arrays. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "ckpt/ckpt_internal.h"
#include "tf_child.h"
#include "tf_test.h"


static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *de;
    while ((de = readdir(d))) n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static const char *CONFIG = "model:\n  name: unet\n  base_ch: 32\n  ch_mult: [1, 2]\noptim:\n  lr: 0.001\n";

int main(void) {
    /* CRC-32C check values (RFC 3720 B.4 / the "123456789" check), both code paths. */
    uint8_t zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) inc[i] = (uint8_t)i;
    CHECK(tf_crc32c_extend(0, "123456789", 9) == 0xE3069283u);
    CHECK(tf_crc32c_extend_portable(0, "123456789", 9) == 0xE3069283u);
    CHECK(tf_crc32c_extend(0, zeros, 32) == 0x8A9136AAu);
    CHECK(tf_crc32c_extend(0, ones, 32) == 0x62A8AB43u);
    CHECK(tf_crc32c_extend_portable(0, inc, 32) == 0x46DD794Eu);
    CHECK(tf_crc32c_extend(tf_crc32c_extend(0, inc, 13), inc + 13, 19) == tf_crc32c_extend(0, inc, 32)); /* chaining */
    /* Hardware and table versions agree at every length and misalignment. */
    unsigned char buf[300];
    for (int i = 0; i < 300; i++) buf[i] = (unsigned char)(i * 37 + 11);
    int agree = 1;
    for (int off = 0; off < 9; off++)
        for (int n = 0; n + off <= 300; n += 7) agree &= tf_crc32c_extend(0, buf + off, (size_t)n) == tf_crc32c_extend_portable(0, buf + off, (size_t)n);
    CHECK(agree);
    /* FNV-1a 64 reference values. */
    CHECK(tf_ckpt_config_hash("") == 0xcbf29ce484222325ull);
    CHECK(tf_ckpt_config_hash("a") == 0xaf63dc4c8601ec8cull);
    CHECK(tf_ckpt_config_hash("foobar") == 0x85944171f73967e8ull);

    char dir[] = "/tmp/tf_ckpt_rt_XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }

    /* Four groups x three parameters; values include -0, +-inf, a NaN payload, denormals. */
    const char *pn[3] = {"stem.weight", "down.0.blocks.0.res.conv1.weight", "out.bias"};
    int shapes[3][4] = {{8, 3, 3, 3}, {16, 8, 3, 3}, {5}}, ndims[3] = {4, 4, 1};
    const char *groups[4] = {"param", "adam_m", "adam_v", "ema"};
    TfCkptTensor t[12];
    char names[12][128];
    float *data[12];
    for (int g = 0; g < 4; g++)
        for (int p = 0; p < 3; p++) {
            int k = g * 3 + p;
            size_t numel = 1;
            for (int d = 0; d < ndims[p]; d++) numel *= (size_t)shapes[p][d];
            snprintf(names[k], sizeof names[k], "%s/%s", groups[g], pn[p]);
            data[k] = malloc(numel * sizeof(float));
            for (size_t i = 0; i < numel; i++) data[k][i] = (float)sin((double)(k * 1000 + (int)i)) * 3.0f;
            uint32_t nanbits = 0x7fc01234u;
            float qnan;
            memcpy(&qnan, &nanbits, 4);
            data[k][0] = -0.0f;
            data[k][1] = INFINITY;
            data[k][2] = -INFINITY;
            data[k][3] = qnan;
            data[k][4] = 1e-42f;
            t[k] = (TfCkptTensor){names[k], ndims[p], {0}, numel, data[k], 0};
            memcpy(t[k].shape, shapes[p], sizeof shapes[p]);
        }
    TfCkptMeta meta = {0};
    meta.arch = "unet";
    meta.config_text = CONFIG;
    meta.step = 1234;
    meta.epoch = 7;
    meta.loader_cursor = 987654321012ull;
    meta.seed = 0xdeadbeefcafef00dull;
    meta.rng_key = 42;
    meta.skipped_steps = 3;
    meta.world_size = 4;
    meta.train_seconds = 3600.25;
    char err[1024], path[4096];
    int rc = tf_ckpt_save(dir, &meta, t, 12, path, sizeof path, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK(strstr(path, "step_00001234.ckpt") != NULL);
    CHECK(count_files(dir) == 2); /* .ckpt + .done, no temp left */

    TfCkpt *ck = NULL;
    rc = tf_ckpt_load(path, &ck, err, sizeof err);
    CHECK_MSG(rc == 0 && ck, "%s", err);
    if (ck) {
        CHECK(ck->n_tensors == 12);
        CHECK(strcmp(ck->meta.arch, "unet") == 0);
        CHECK(strcmp(ck->meta.config_text, CONFIG) == 0);
        CHECK(ck->meta.step == 1234 && ck->meta.epoch == 7 && ck->meta.loader_cursor == 987654321012ull);
        CHECK(ck->meta.seed == 0xdeadbeefcafef00dull && ck->meta.rng_key == 42 && ck->meta.skipped_steps == 3);
        CHECK(ck->meta.world_size == 4 && ck->meta.train_seconds == 3600.25);
        CHECK(ck->meta.format_version == TF_CKPT_FORMAT_VERSION);
        CHECK(strcmp(ck->meta.tinyflow_version, TF_VERSION) == 0);
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)tf_ckpt_config_hash(CONFIG));
        CHECK(strcmp(ck->meta.config_hash, h) == 0);
        CHECK(ck->meta.saved_unix > 1.6e9);
        int bitwise = 1, order = 1;
        for (int k = 0; k < 12; k++) {
            const TfCkptTensor *x = tf_ckpt_tensor(ck, names[k]);
            CHECK_MSG(x != NULL, "lookup %s", names[k]);
            if (!x) continue;
            order &= x == &ck->tensors[k]; /* file order = save order */
            bitwise &= x->numel == t[k].numel && x->ndim == t[k].ndim && memcmp(x->shape, t[k].shape, sizeof x->shape) == 0 &&
                       memcmp(x->data, data[k], x->numel * 4) == 0 && ((uintptr_t)x->data & 63) == 0;
            bitwise &= x->crc32c == tf_crc32c_extend(0, data[k], t[k].numel * 4);
        }
        CHECK(bitwise);
        CHECK(order);
        CHECK(tf_ckpt_tensor(ck, "param/nope") == NULL);
        CHECK(tf_ckpt_tensor(ck, "stem.weight") == NULL); /* group prefix required */
        tf_ckpt_free(ck);
    }

    /* Saving the same step again replaces it (new values), still exactly two files. */
    data[0][5] = 123.5f;
    meta.epoch = 8;
    CHECK(tf_ckpt_save(dir, &meta, t, 12, NULL, 0, err, sizeof err) == 0);
    CHECK(count_files(dir) == 2);
    ck = NULL;
    CHECK(tf_ckpt_load_step(dir, 1234, &ck, err, sizeof err) == 0);
    if (ck) {
        CHECK(ck->meta.epoch == 8 && tf_ckpt_tensor(ck, "param/stem.weight")->data[5] == 123.5f);
        tf_ckpt_free(ck);
    }

    /* A checkpoint without tensors is valid. */
    meta.step = 1;
    CHECK(tf_ckpt_save(dir, &meta, NULL, 0, NULL, 0, err, sizeof err) == 0);
    CHECK(tf_ckpt_load_step(dir, 1, &ck, err, sizeof err) == 0 && ck && ck->n_tensors == 0);
    tf_ckpt_free(ck);

    /* Bad input to save: refused with a message, nothing written. */
    int before = count_files(dir);
    meta.step = 99;
    TfCkptTensor bad[2] = {t[0], t[1]};
    bad[1].name = names[0];
    CHECK(tf_ckpt_save(dir, &meta, bad, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "appears twice"));
    bad[1] = t[1];
    bad[1].name = "param/has space";
    CHECK(tf_ckpt_save(dir, &meta, bad, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "blank"));
    bad[1].name = "noprefix";
    CHECK(tf_ckpt_save(dir, &meta, bad, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "group/name"));
    bad[1] = t[1];
    bad[1].numel += 1;
    CHECK(tf_ckpt_save(dir, &meta, bad, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "does not match its shape"));
    bad[1] = t[1];
    bad[1].ndim = 5;
    CHECK(tf_ckpt_save(dir, &meta, bad, 2, NULL, 0, err, sizeof err) == -1 && strstr(err, "ndim 5"));
    TfCkptMeta m2 = meta;
    m2.arch = NULL;
    CHECK(tf_ckpt_save(dir, &m2, t, 2, NULL, 0, err, sizeof err) == -1);
    CHECK(tf_ckpt_save("/nonexistent/dir/for/tf", &meta, t, 2, NULL, 0, err, sizeof err) == -1 &&
          strstr(err, "/nonexistent/dir/for/tf"));
    CHECK(count_files(dir) == before);

    /* The inspector prints the manifest and every tensor; a bad file prints INVALID. */
    FILE *f = tmpfile();
    if (f) {
        CHECK(tf_ckpt_describe(path, f) == 0);
        long n = ftell(f);
        char *text = calloc(1, (size_t)n + 1);
        rewind(f);
        if (fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = '\0';
        CHECK(strstr(text, "step             1234") && strstr(text, "architecture     unet"));
        CHECK(strstr(text, "param/down.0.blocks.0.res.conv1.weight") && strstr(text, "16x8x3x3"));
        CHECK(strstr(text, "base_ch: 32") != NULL);
        free(text);
        fclose(f);
    }
    f = tmpfile();
    if (f) {
        CHECK(tf_ckpt_describe("/nonexistent/x.ckpt", f) == -1 && ftell(f) > 0);
        fclose(f);
    }

    for (int k = 0; k < 12; k++) free(data[k]);
    tf_rm_dir(dir);
    return tf_test_finish("test_ckpt_roundtrip");
}
