/* test_ckpt_skips.c - the checkpoint keeps the streak of consecutive non-finite skips
 * (Manifest.consecutive_skips, added after format v1 shipped) next to the total: it round-trips,
 * a streak longer than the total is refused, and a file written by the build BEFORE the field
 * existed (embedded below, made by that build's tf_ckpt_save) still loads, with a streak of 0.
 * Knows nothing about models or the trainer: tensors are made-up named arrays. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "tf_test.h"

/* step_00000040.ckpt as tinyflow 0.1.0 wrote it before consecutive_skips: arch mlp, config
 * "model:\n  name: mlp\n", step 40, epoch 2, cursor 512, seed 7, rng_key 9, 3 skipped steps,
 * world 2, 1.5 s, one tensor param/w [2,3] = {1.5, -2, 0.25, 3, -0.5, 8}. */
static const unsigned char k_old_ckpt[] = {
  0x89, 0x54, 0x46, 0x43, 0x4b, 0x50, 0x54, 0x0a, 0x01, 0x00, 0x00, 0x00,
  0xda, 0x99, 0x3d, 0x11, 0x6e, 0x00, 0x00, 0x00, 0x86, 0xbe, 0x03, 0x54,
  0x08, 0x01, 0x12, 0x05, 0x30, 0x2e, 0x31, 0x2e, 0x30, 0x1a, 0x13, 0x6d,
  0x6f, 0x64, 0x65, 0x6c, 0x3a, 0x0a, 0x20, 0x20, 0x6e, 0x61, 0x6d, 0x65,
  0x3a, 0x20, 0x6d, 0x6c, 0x70, 0x0a, 0x22, 0x10, 0x62, 0x37, 0x66, 0x61,
  0x65, 0x34, 0x31, 0x62, 0x65, 0x34, 0x38, 0x39, 0x64, 0x61, 0x38, 0x30,
  0x2a, 0x03, 0x6d, 0x6c, 0x70, 0x30, 0x28, 0x38, 0x02, 0x40, 0x80, 0x04,
  0x48, 0x07, 0x50, 0x09, 0x58, 0x03, 0x60, 0x02, 0x69, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0xf8, 0x3f, 0x71, 0x00, 0x00, 0xc0, 0x4a, 0xe6, 0xc2,
  0xda, 0x41, 0x7a, 0x16, 0x0a, 0x07, 0x70, 0x61, 0x72, 0x61, 0x6d, 0x2f,
  0x77, 0x12, 0x02, 0x02, 0x03, 0x18, 0x01, 0x20, 0x18, 0x2d, 0x90, 0xec,
  0x71, 0xcc, 0x18, 0x00, 0x00, 0x00, 0x04, 0x06, 0x8b, 0x02, 0x12, 0x16,
  0x0a, 0x07, 0x70, 0x61, 0x72, 0x61, 0x6d, 0x2f, 0x77, 0x12, 0x02, 0x02,
  0x03, 0x18, 0x01, 0x20, 0x18, 0x2d, 0x90, 0xec, 0x71, 0xcc, 0x00, 0x00,
  0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00,
  0x40, 0x40, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x41, 0x0c, 0x00,
  0x00, 0x00, 0x5e, 0x45, 0x06, 0x43, 0x08, 0x01, 0x15, 0x86, 0xbe, 0x03,
  0x54, 0x18, 0x18, 0x20, 0xbe, 0x01};

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static int save_one(const char *dir, uint64_t step, uint64_t skipped, uint64_t streak, char *path, size_t cap,
                    char *err, size_t ecap) {
    static const float w[4] = {1, 2, 3, 4};
    TfCkptTensor t = {"param/w", 1, {4, 0, 0, 0}, 4, w, 0};
    TfCkptMeta m;
    memset(&m, 0, sizeof m);
    m.arch = "mlp";
    m.config_text = "model:\n  name: mlp\n";
    m.step = step;
    m.skipped_steps = skipped;
    m.consecutive_skips = streak;
    m.world_size = 1;
    return tf_ckpt_save(dir, &m, &t, 1, path, cap, err, ecap);
}

int main(void) {
    char dir[] = "/tmp/tf_test_ckpt_skips_XXXXXX", path[4096], err[2048];
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    TfCkpt *ck = NULL;

    /* 1. the streak round-trips next to the total */
    CHECK_MSG(save_one(dir, 10, 6, 4, path, sizeof path, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(tf_ckpt_load(path, &ck, err, sizeof err) == 0, "%s", err);
    if (ck) CHECK(ck->meta.skipped_steps == 6 && ck->meta.consecutive_skips == 4);
    tf_ckpt_free(ck), ck = NULL;
    /* no streak: 0 back (proto3 leaves the field out, exactly as older files do) */
    CHECK_MSG(save_one(dir, 11, 6, 0, path, sizeof path, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(tf_ckpt_load(path, &ck, err, sizeof err) == 0, "%s", err);
    if (ck) CHECK(ck->meta.skipped_steps == 6 && ck->meta.consecutive_skips == 0);
    tf_ckpt_free(ck), ck = NULL;

    /* 2. a streak longer than all skipped steps is not a state any run can reach */
    CHECK_MSG(save_one(dir, 12, 2, 5, path, sizeof path, err, sizeof err) == 0, "%s", err);
    CHECK(tf_ckpt_load(path, &ck, err, sizeof err) == -1 && ck == NULL);
    CHECK_MSG(strstr(err, "5 consecutive skipped steps but only 2") != NULL, "%s", err);

    /* 3. a checkpoint written before the field existed loads, streak 0, everything else intact */
    char old[4200];
    snprintf(old, sizeof old, "%s/old_v1.ckpt", dir);
    CHECK(write_file(old, k_old_ckpt, sizeof k_old_ckpt) == 0);
    CHECK_MSG(tf_ckpt_load(old, &ck, err, sizeof err) == 0, "%s", err);
    if (ck) {
        CHECK(ck->meta.step == 40 && ck->meta.epoch == 2 && ck->meta.loader_cursor == 512);
        CHECK(ck->meta.seed == 7 && ck->meta.rng_key == 9 && ck->meta.world_size == 2);
        CHECK(ck->meta.skipped_steps == 3 && ck->meta.consecutive_skips == 0);
        CHECK(strcmp(ck->meta.arch, "mlp") == 0 && ck->n_tensors == 1);
        const TfCkptTensor *t = tf_ckpt_tensor(ck, "param/w");
        CHECK(t && t->numel == 6 && t->data[0] == 1.5f && t->data[5] == 8.0f);
    }
    tf_ckpt_free(ck), ck = NULL;

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
    return tf_test_finish("test_ckpt_skips");
}
