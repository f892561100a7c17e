/* test_gpu_train.c - `tinyflow train` with trainer.device=cuda against trainer.device=cpu,
 * through the built binary (one plain process each, as a user runs it):
 *   - a tiny class-conditional U-Net (dropout, label dropout, EMA, an evaluation grid at step 3
 *     from the host copy of the weights) on a generated 28x28 IDX fixture, 6 steps on each
 *     device: every step's loss (metrics.jsonl, log_every=1) agrees within 1e-4 relative;
 *   - the GPU's step-3 checkpoint resumes on the CPU, and the CPU's on the GPU: both continue
 *     to step 6 with the losses of the uninterrupted runs (1e-4 relative), so checkpoints are
 *     interchangeable between devices;
 *   - the GPU run wrote its evaluation grid and a final checkpoint.
 * Usage: test_gpu_train TINYFLOW CONFIG_DIR WORK_DIR. Exit 77 when no GPU is visible. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu_test.h"

#define STEPS 6
#define RTOL 1e-4

static const char *g_bin, *g_cfg, *g_work;

static void mkdirs(const char *p) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", p);
        exit(1);
    }
}

/* tests/mpi/make_fixture.py in C: n images of 28x28 (class k: a bright 8x8 square placed by k). */
static void write_fixture(const char *root, int n) {
    char dir[4300], path[4400];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    mkdirs(dir);
    unsigned char *pix = malloc((size_t)n * 784), *lab = malloc((size_t)n);
    unsigned state = 12345;
    for (int i = 0; i < n; i++) {
        int k = i % 10, r0 = 3 + (k / 5) * 12, c0 = 2 + (k % 5) * 5;
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++) {
                state = (state * 1103515245u + 12345u) & 0x7FFFFFFFu;
                unsigned v = (state >> 16) % 24;
                if (r >= r0 && r < r0 + 8 && c >= c0 && c < c0 + 8) v = 200 + (state >> 20) % 56;
                pix[(size_t)i * 784 + (size_t)r * 28 + (size_t)c] = (unsigned char)v;
            }
        lab[i] = (unsigned char)k;
    }
    unsigned char hdr[16];
    const unsigned hv[4] = {0x803u, (unsigned)n, 28u, 28u};
    for (int j = 0; j < 4; j++)
        for (int b = 0; b < 4; b++) hdr[4 * j + b] = (unsigned char)(hv[j] >> (24 - 8 * b));
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f && fwrite(hdr, 1, 16, f) == 16 && fwrite(pix, 1, (size_t)n * 784, f) == (size_t)n * 784,
              "cannot write %s", path);
    if (f) fclose(f);
    const unsigned lv[2] = {0x801u, (unsigned)n};
    for (int j = 0; j < 2; j++)
        for (int b = 0; b < 4; b++) hdr[4 * j + b] = (unsigned char)(lv[j] >> (24 - 8 * b));
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    f = fopen(path, "wb");
    CHECK_MSG(f && fwrite(hdr, 1, 8, f) == 8 && fwrite(lab, 1, (size_t)n, f) == (size_t)n, "cannot write %s", path);
    if (f) fclose(f);
    free(pix);
    free(lab);
}

/* `tinyflow train` as a plain process into WORK/run (log WORK/run.log); returns its exit code. */
static int train(const char *run, const char *device, const char *extra) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE -u PMIX_RANK -u SLURM_STEP_NUM_TASKS "
             "timeout -k 5 300 '%s' train -cd '%s' trainer.out_dir='%s/%s' trainer.device=%s "
             "dataset=mnist dataset.root='%s/fx' model=unet model.base_ch=8 'model.ch_mult=[1,2]' "
             "model.num_res_blocks=1 model.groups=4 model.heads=1 model.num_classes=10 model.dropout=0.1 "
             "dataset.batch_size=16 lr_schedule.warmup_steps=2 optim.lr=2e-3 trainer.ema_decay=0.99 "
             "trainer.log_every=1 trainer.ckpt_every=3 trainer.keep_last=10 trainer.steps=%d "
             "eval.every=3 eval.n_samples=4 eval.grid_rows=2 eval.grid_cols=2 eval.fid_samples=0 solver.steps=4 "
             "%s >'%s/%s.log' 2>&1",
             g_work, g_bin, g_cfg, g_work, run, device, g_work, STEPS, extra, g_work, run);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    CHECK_MSG(rc == 0, "%s (trainer.device=%s %s): exit %d; see %s/%s.log", run, device, extra, rc, g_work, run);
    if (rc) {
        char tail[4400];
        snprintf(tail, sizeof tail, "tail -20 '%s/%s.log' >&2", g_work, run);
        if (system(tail) != 0) {}
    }
    return rc;
}

/* loss[step] from RUN/metrics.jsonl (NaN where a step has none); returns how many were read. */
static int losses(const char *run, double loss[STEPS + 1]) {
    for (int i = 0; i <= STEPS; i++) loss[i] = NAN;
    char path[4400], line[4096];
    snprintf(path, sizeof path, "%s/%s/metrics.jsonl", g_work, run);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "no %s", path);
    if (!f) return 0;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        const char *s = strstr(line, "\"step\":"), *l = strstr(line, "\"loss\":");
        if (!s || !l) continue;
        long step = strtol(s + 7, NULL, 10);
        if (step < 1 || step > STEPS) continue;
        loss[step] = strtod(l + 7, NULL); /* "null" (no finite step in the window) reads as 0 */
        n++;
    }
    fclose(f);
    return n;
}

static void compare(const char *what, const double *got, const double *want, int from) {
    double worst = 0;
    for (int s = from; s <= STEPS; s++) {
        double rel = fabs(got[s] - want[s]) / fmax(fabs(want[s]), 1e-30);
        CHECK_MSG(isfinite(got[s]) && isfinite(want[s]) && rel <= RTOL, "%s: step %d loss %.9g vs %.9g (rel %.3g > %g)",
                  what, s, got[s], want[s], rel, RTOL);
        if (rel > worst || isnan(rel)) worst = rel;
    }
    printf("  %-52s steps %d-%d: worst rel %.2e (tol %.0e)\n", what, from, STEPS, worst, RTOL);
}

static int exists(const char *run, const char *rel) {
    char path[4400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s/%s", g_work, run, rel);
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_gpu_train TINYFLOW CONFIG_DIR WORK_DIR\n");
        return 2;
    }
    gpu_require("test_gpu_train");
    g_bin = argv[1];
    g_cfg = argv[2];
    g_work = argv[3];
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_work);
    if (system(cmd) != 0) return 1;
    mkdirs(g_work);
    char fx[4200];
    snprintf(fx, sizeof fx, "%s/fx", g_work);
    write_fixture(fx, 128);

    double cpu[STEPS + 1], gpu[STEPS + 1], g2c[STEPS + 1], c2g[STEPS + 1];
    if (train("cpu", "cpu", "trainer.resume=never") || train("gpu", "cuda", "trainer.resume=never"))
        return tf_test_finish("test_gpu_train");
    CHECK_MSG(losses("cpu", cpu) == STEPS, "cpu run: want %d losses", STEPS);
    CHECK_MSG(losses("gpu", gpu) == STEPS, "gpu run: want %d losses", STEPS);
    compare("gpu vs cpu, per-step loss", gpu, cpu, 1);
    CHECK_MSG(exists("gpu", "samples/step_0000003.png"), "gpu run: no evaluation grid at step 3");
    CHECK_MSG(exists("gpu", "checkpoints/step_00000006.ckpt"), "gpu run: no final checkpoint");

    /* a GPU checkpoint resumes on the CPU, a CPU checkpoint on the GPU */
    char extra[4400];
    snprintf(extra, sizeof extra, "trainer.resume='%s/gpu/checkpoints/step_00000003.ckpt'", g_work);
    if (train("gpu_to_cpu", "cpu", extra) == 0) {
        losses("gpu_to_cpu", g2c);
        CHECK_MSG(isnan(g2c[3]) && isfinite(g2c[4]), "gpu_to_cpu: did not resume at step 3");
        compare("GPU checkpoint resumed on the CPU vs the GPU run", g2c, gpu, 4);
        compare("GPU checkpoint resumed on the CPU vs the CPU run", g2c, cpu, 4);
    }
    snprintf(extra, sizeof extra, "trainer.resume='%s/cpu/checkpoints/step_00000003.ckpt'", g_work);
    if (train("cpu_to_gpu", "cuda", extra) == 0) {
        losses("cpu_to_gpu", c2g);
        CHECK_MSG(isnan(c2g[3]) && isfinite(c2g[4]), "cpu_to_gpu: did not resume at step 3");
        compare("CPU checkpoint resumed on the GPU vs the CPU run", c2g, cpu, 4);
    }
    return tf_test_finish("test_gpu_train");
}
