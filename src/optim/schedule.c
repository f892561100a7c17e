/* schedule.c - learning-rate schedules (schedule.h). Knows nothing about configs or models. */
#include "optim/schedule.h"

#include <math.h>
#include <string.h>

#include "core/check.h"

#define PI 3.14159265358979323846

int tf_lr_decay_parse(const char *name, TfLrDecay *out) {
    if (!name) return -1;
    if (!strcmp(name, "constant")) *out = TF_LR_CONSTANT;
    else if (!strcmp(name, "step")) *out = TF_LR_STEP;
    else if (!strcmp(name, "cosine") || !strcmp(name, "warmup_cosine")) *out = TF_LR_COSINE;
    else if (!strcmp(name, "warmup_linear") || !strcmp(name, "linear")) *out = TF_LR_LINEAR;
    else return -1;
    return 0;
}

void tf_lr_schedule_check(const TfLrSchedule *s) {
    if (!(s->lr > 0) || !isfinite(s->lr)) tf_die_usage("set optim.lr > 0", "learning rate %g", s->lr);
    if (!(s->min_lr >= 0) || s->min_lr > s->lr)
        tf_die_usage("set 0 <= lr_schedule.min_lr <= optim.lr", "lr_schedule.min_lr = %g with optim.lr = %g", s->min_lr,
                     s->lr);
    if (s->total < 1) tf_die_usage("train for at least one step", "schedule over %lld steps", (long long)s->total);
    if (s->warmup < 0 || s->warmup >= s->total)
        tf_die_usage("set lr_schedule.warmup_steps below the number of steps",
                     "lr_schedule.warmup_steps = %lld with %lld steps", (long long)s->warmup, (long long)s->total);
    if (s->decay == TF_LR_STEP && (s->step_size < 1 || !(s->gamma > 0) || s->gamma > 1))
        tf_die_usage("set lr_schedule.step_size >= 1 and 0 < lr_schedule.gamma <= 1",
                     "step schedule with step_size %lld, gamma %g", (long long)s->step_size, s->gamma);
}

double tf_lr_at(const TfLrSchedule *s, int64_t step) {
    if (step < 0) step = 0;
    if (step >= s->total) step = s->total - 1;
    if (step < s->warmup) return s->lr * (double)(step + 1) / (double)s->warmup;
    int64_t k = step - s->warmup, span = s->total - s->warmup - 1;
    double p = span > 0 ? (double)k / (double)span : 1.0;
    switch (s->decay) {
    case TF_LR_CONSTANT: return s->lr;
    case TF_LR_STEP: return s->lr * pow(s->gamma, (double)(k / s->step_size));
    case TF_LR_COSINE: return s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(PI * p));
    case TF_LR_LINEAR: return s->lr - (s->lr - s->min_lr) * p;
    }
    return s->lr;
}
