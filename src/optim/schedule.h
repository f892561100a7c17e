/* schedule.h - learning-rate schedules as a pure function of the step.
 *
 *   warm-up   steps s < warmup:  lr (s + 1) / warmup          (linear ramp; never 0)
 *   then, with p = (s - warmup) / (total - warmup - 1) in [0, 1] (the last step has p = 1):
 *   constant  lr
 *   step      lr gamma^floor((s - warmup) / step_size)
 *   cosine    min_lr + (lr - min_lr) (1 + cos(pi p)) / 2
 *   linear    lr - (lr - min_lr) p
 * Config names: constant, step, cosine, warmup_cosine, warmup_linear (every one honours
 * warmup_steps; the warmup_* names only differ in their default warm-up). Steps are
 * 0-based optimizer steps, so a resumed run continues the curve exactly.
 * This file must not know about configs, models or files.
 */
#ifndef TF_OPTIM_SCHEDULE_H
#define TF_OPTIM_SCHEDULE_H

#include <stdint.h>

typedef enum { TF_LR_CONSTANT = 0, TF_LR_STEP, TF_LR_COSINE, TF_LR_LINEAR } TfLrDecay;

typedef struct {
    TfLrDecay decay;
    double lr, min_lr;   /* peak and final rate (min_lr: cosine and linear) */
    int64_t warmup;      /* warm-up steps (0: none) */
    int64_t total;       /* steps of the whole run */
    int64_t step_size;   /* step: steps between decays */
    double gamma;        /* step: factor per decay */
} TfLrSchedule;

/* "constant", "step", "cosine", "warmup_cosine", "warmup_linear" -> 0 and *out; -1 if unknown. */
int tf_lr_decay_parse(const char *name, TfLrDecay *out);
/* Dies (usage) naming the value unless lr > 0, 0 <= min_lr <= lr, 0 <= warmup < total,
 * step_size >= 1 and 0 < gamma <= 1 for TF_LR_STEP. */
void tf_lr_schedule_check(const TfLrSchedule *s);
/* The rate at 0-based step s (s >= total gives the last step's rate). */
double tf_lr_at(const TfLrSchedule *s, int64_t step);

#endif
