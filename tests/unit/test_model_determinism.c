/* test_model_determinism.c - reproducibility is exact equality: the same UNet step
 * (forward, backward) run twice on one tape, and on a second tape built from the same
 * seed, gives bitwise identical outputs and parameter gradients (oneDNN convolutions
 * included, at the thread count of the run). */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "model/model.h"
#include "tf_test.h"

static void step(TfTape *tp, float *out, float *grad) {
    const size_t n = tp->t[tp->input].numel;
    TfRng r = tf_rng(3, TF_STREAM_USER, 0, 0);
    tf_rng_fill_normal(&r, 0, tf_tape_data(tp, tp->input), n);
    for (int b = 0; b < tp->batch; b++) { tp->time[b] = 0.1f + 0.2f * b; tp->labels[b] = b % 11; }
    tp->training = 1; tp->seed = 5; tp->step = 9; tp->sample0 = 0;
    tf_tape_zero_grad(tp);
    tf_tape_forward(tp);
    memcpy(out, tf_tape_data(tp, tp->output), sizeof(float) * n);
    tf_rng_fill_normal(&r, n, tf_tape_grad(tp, tp->output), n);
    tf_tape_backward(tp);
    memcpy(grad, tp->grad, sizeof(float) * tp->n_param_floats);
}

int main(void) {
    TfModelConfig c = tf_model_config_named("mnist");
    c.dropout = 0.1f;
    TfTape a, b;
    tf_model_build(&a, &c, tf_backend_cpu(), 4, TF_BUILD_TRAIN, 42, NULL);
    tf_model_build(&b, &c, tf_backend_cpu(), 4, TF_BUILD_TRAIN, 42, NULL);
    const size_t n = a.t[a.input].numel, np = a.n_param_floats;
    CHECK(memcmp(a.param, b.param, sizeof(float) * np) == 0);
    float *o1 = malloc(4 * n), *o2 = malloc(4 * n), *o3 = malloc(4 * n), *g1 = malloc(4 * np), *g2 = malloc(4 * np), *g3 = malloc(4 * np);
    step(&a, o1, g1);
    step(&a, o2, g2);
    step(&b, o3, g3);
    CHECK_MSG(memcmp(o1, o2, 4 * n) == 0, "output differs between two runs on one tape");
    CHECK_MSG(memcmp(g1, g2, 4 * np) == 0, "gradients differ between two runs on one tape");
    CHECK_MSG(memcmp(o1, o3, 4 * n) == 0, "output differs on a second tape");
    CHECK_MSG(memcmp(g1, g3, 4 * np) == 0, "gradients differ on a second tape");
    /* and the gradients are not trivially zero */
    double s = 0;
    for (size_t i = 0; i < np; i++) s += (double)g1[i] * g1[i];
    CHECK(s > 0);
    free(o1); free(o2); free(o3); free(g1); free(g2); free(g3);
    tf_tape_free(&a);
    tf_tape_free(&b);
    return tf_test_finish("test_model_determinism");
}
