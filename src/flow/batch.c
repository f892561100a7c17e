/* batch.c - assemble one training batch (see batch.h). Knows nothing about models or ranks. */
#include "flow/batch.h"

#include <stdlib.h>

#include "core/check.h"
#include "core/rng.h"
#include "flow/path.h"

TfFlowBatchSpec tf_flow_batch_spec(void) {
    TfFlowBatchSpec s;
    s.sched = tf_scheduler_condot();
    s.time = tf_time_uniform();
    s.coupling = TF_COUPLING_INDEPENDENT;
    s.label_drop = 0.0;
    s.num_classes = 0;
    return s;
}

size_t tf_flow_batch_workspace_bytes(const TfFlowBatchSpec *spec, int n, int dim) {
    if (n < 0 || dim < 1) tf_die_usage("pass n >= 0 rows of dim >= 1", "batch workspace for n = %d, dim = %d", n, dim);
    if (spec->coupling != TF_COUPLING_OT) return 0;
    size_t noise = tf_mul_size((size_t)n, (size_t)dim, "batch noise") * sizeof(float);
    size_t perm = ((size_t)n * sizeof(int) + 7) & ~(size_t)7;
    return ((noise + 7) & ~(size_t)7) + perm + tf_ot_workspace_bytes(n);
}

void tf_flow_batch(const TfFlowBatchSpec *spec, uint64_t seed, uint64_t step, uint64_t first, int n, int dim,
                   const float *x1, const int *labels_in, float *t, float *x0, float *xt, float *target,
                   int *labels_out, void *work) {
    if (n < 1 || dim < 1) tf_die_usage("pass n >= 1 rows of dim >= 1", "tf_flow_batch: n = %d, dim = %d", n, dim);
    tf_draw_time(&spec->time, seed, step, first, n, t);
    if (spec->coupling == TF_COUPLING_OT) {
        void *own = work ? NULL : tf_malloc(tf_flow_batch_workspace_bytes(spec, n, dim));
        char *c = work ? work : own;
        size_t noise = (size_t)n * (size_t)dim * sizeof(float);
        float *z = (float *)c;
        int *perm = (int *)(c + ((noise + 7) & ~(size_t)7));
        void *otw = (char *)perm + (((size_t)n * sizeof(int) + 7) & ~(size_t)7);
        tf_draw_noise(TF_STREAM_NOISE, seed, step, first, n, dim, z);
        tf_ot_couple(n, dim, z, x1, perm, otw);
        tf_permute_rows(n, dim, perm, z, x0);
        free(own);
    } else if (spec->coupling == TF_COUPLING_INDEPENDENT) {
        tf_draw_noise(TF_STREAM_NOISE, seed, step, first, n, dim, x0);
    } else {
        tf_die_usage("use TF_COUPLING_INDEPENDENT or TF_COUPLING_OT", "unknown coupling %d", (int)spec->coupling);
    }
    tf_path_sample(&spec->sched, n, dim, t, x0, x1, xt, target);
    if (labels_in) {
        if (!labels_out) tf_die_usage("pass labels_out with labels_in", "tf_flow_batch: labels_out = NULL");
        tf_draw_label_dropout(seed, step, first, n, spec->label_drop, spec->num_classes, labels_in, labels_out);
    }
}
