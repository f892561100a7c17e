/* test_optim_schedule.c - learning-rate schedules (optim/schedule.h): the warm-up ramp, each
 * decay's values at known steps (first, middle, last), monotonicity, the step decay's jumps,
 * names, and that values past the end hold the last step's rate. */
#include <math.h>
#include <string.h>

#include "optim/schedule.h"
#include "tf_test.h"

static TfLrSchedule sched(TfLrDecay d, int64_t warmup, int64_t total) {
    TfLrSchedule s;
    memset(&s, 0, sizeof s);
    s.decay = d;
    s.lr = 1e-3;
    s.min_lr = 1e-5;
    s.warmup = warmup;
    s.total = total;
    s.step_size = 30;
    s.gamma = 0.5;
    return s;
}

int main(void) {
    TfLrDecay d;
    CHECK(tf_lr_decay_parse("constant", &d) == 0 && d == TF_LR_CONSTANT);
    CHECK(tf_lr_decay_parse("step", &d) == 0 && d == TF_LR_STEP);
    CHECK(tf_lr_decay_parse("cosine", &d) == 0 && d == TF_LR_COSINE);
    CHECK(tf_lr_decay_parse("warmup_cosine", &d) == 0 && d == TF_LR_COSINE);
    CHECK(tf_lr_decay_parse("warmup_linear", &d) == 0 && d == TF_LR_LINEAR);
    CHECK(tf_lr_decay_parse("cosin", &d) == -1);
    CHECK(tf_lr_decay_parse(NULL, &d) == -1);

    /* warm-up: linear from lr/warmup to lr, never 0 */
    TfLrSchedule c = sched(TF_LR_COSINE, 10, 110);
    tf_lr_schedule_check(&c);
    CHECK_CLOSE(tf_lr_at(&c, 0), 1e-4, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&c, 4), 5e-4, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&c, 9), 1e-3, 1e-15, 1e-12);
    /* cosine: peak right after warm-up, midpoint halfway, min_lr at the last step */
    CHECK_CLOSE(tf_lr_at(&c, 10), 1e-3, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&c, 59), 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + cos(3.14159265358979323846 * 49.0 / 99.0)), 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&c, 109), 1e-5, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&c, 500), 1e-5, 1e-15, 1e-12); /* past the end: the last rate */
    int mono = 1;
    for (int64_t s = 11; s < 110; s++) mono &= tf_lr_at(&c, s) <= tf_lr_at(&c, s - 1);
    CHECK_MSG(mono, "cosine decay is not monotone");

    /* linear: exact straight line from lr to min_lr */
    TfLrSchedule l = sched(TF_LR_LINEAR, 0, 101);
    CHECK_CLOSE(tf_lr_at(&l, 0), 1e-3, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&l, 50), 0.5 * (1e-3 + 1e-5), 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&l, 100), 1e-5, 1e-15, 1e-12);

    /* constant, with and without warm-up */
    TfLrSchedule k = sched(TF_LR_CONSTANT, 0, 10);
    for (int64_t s = 0; s < 10; s++) CHECK_CLOSE(tf_lr_at(&k, s), 1e-3, 0, 0);
    k.warmup = 4;
    CHECK_CLOSE(tf_lr_at(&k, 1), 5e-4, 1e-15, 1e-12);
    CHECK_CLOSE(tf_lr_at(&k, 4), 1e-3, 0, 0);

    /* step: halves every 30 steps after the warm-up */
    TfLrSchedule st = sched(TF_LR_STEP, 5, 200);
    CHECK_CLOSE(tf_lr_at(&st, 5), 1e-3, 0, 1e-12);
    CHECK_CLOSE(tf_lr_at(&st, 34), 1e-3, 0, 1e-12);
    CHECK_CLOSE(tf_lr_at(&st, 35), 5e-4, 0, 1e-12);
    CHECK_CLOSE(tf_lr_at(&st, 95), 1.25e-4, 0, 1e-12);

    /* one step after warm-up: p = 1 at once (no division by zero) */
    TfLrSchedule one = sched(TF_LR_COSINE, 1, 2);
    CHECK_CLOSE(tf_lr_at(&one, 1), 1e-5, 1e-15, 1e-12);
    TfLrSchedule single = sched(TF_LR_LINEAR, 0, 1);
    CHECK(isfinite(tf_lr_at(&single, 0)));
    return tf_test_finish("test_optim_schedule");
}
