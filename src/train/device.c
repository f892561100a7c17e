/* device.c - trainer.device -> where the training step runs: `cpu` (the CPU backend, host
 * memory; the default), `cuda` (one GPU per rank through device_cuda.c, which only CUDA builds
 * compile) or `auto` (cuda when this build has CUDA and EVERY rank sees a GPU, else cpu: the
 * ranks agree in one small allreduce, so a job never mixes devices). `cuda` without a CUDA
 * build or without a visible GPU ends the run with exit 2 and a hint, before anything is built.
 * Must not know about the step's arithmetic, files or tracking. */
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "train/train_internal.h"

#ifdef TF_HAVE_CUDA /* backend_cuda.h needs the CUDA headers */
#include "backend/backend_cuda.h"
#endif

/* Visible GPUs (0 in a CPU-only build); why: a line saying what was found. */
static int visible_gpus(char *why, size_t cap) {
#ifdef TF_HAVE_CUDA
    int n = tf_cuda_device_count();
    tf_cuda_describe_devices(why, cap);
    return n;
#else
    snprintf(why, cap, "this tinyflow was built without the CUDA backend (TINYFLOW_CUDA=OFF, or no nvcc found)");
    return 0;
#endif
}

void tf_train_device_open(TfTrainer *tr) {
    const char *want = tr->o.device;
    tr->dev = NULL;
    if (!strcmp(want, "cpu")) {
        tr->be = tf_backend_cpu();
        snprintf(tr->device_text, sizeof tr->device_text, "cpu");
        return;
    }
    char why[1024];
    int n = visible_gpus(why, sizeof why);
    if (!strcmp(want, "auto")) {
        int none[1] = {n <= 0};
        tf_dist_allreduce_max_i32(none, 1); /* every rank alike */
        if (none[0]) {
            tr->be = tf_backend_cpu();
            snprintf(tr->device_text, sizeof tr->device_text, "cpu (trainer.device=auto: %s)",
                     n <= 0 ? "no GPU visible here" : "some rank sees no GPU");
            return;
        }
    } else if (strcmp(want, "cuda")) {
        tf_die_usage("use trainer.device=cpu, cuda or auto", "trainer.device = '%s' is not a device", want);
    }
#ifdef TF_HAVE_CUDA
    if (n <= 0)
        tf_die_usage("check nvidia-smi and CUDA_VISIBLE_DEVICES on this node, or use trainer.device=cpu (or auto)",
                     "trainer.device=cuda but no GPU is visible on %s (rank %d): %s", tr->dist->host, tr->rank, why);
    tr->dev = tf_train_cuda_open(tr);
    snprintf(tr->device_text, sizeof tr->device_text, "cuda device %d of %d visible (local rank %d; trainer.device=%s)",
             tf_backend_cuda_device(), n, tr->dist->local_rank, want);
#else
    tf_die_usage("rebuild with -DTINYFLOW_CUDA=ON (docs/cuda.md), or use trainer.device=cpu (or auto)",
                 "trainer.device=cuda: %s", why);
#endif
}
