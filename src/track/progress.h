/* progress.h - console progress for the trainer's rank 0. On a terminal: one line redrawn in
 * place with '\r' (epoch, a bar, step/total, loss, lr, grad norm, images/s, ETA); otherwise
 * (a log file, a pipe, Slurm's output) one plain line per call, so logs stay greppable.
 * ETA = (total - step) / ((step - start_step) / elapsed_s).
 * This file must not know about models, MPI, training internals or the other sinks. */
#ifndef TF_TRACK_PROGRESS_H
#define TF_TRACK_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    int epoch;
    int64_t step, total_steps; /* total_steps <= 0: unknown (no bar, no ETA) */
    int64_t start_step;        /* first step of this process (resume), for the rate */
    double loss, lr, grad_norm, images_per_s;
    double elapsed_s;          /* wall time since start_step */
} TfProgress;

/* The text for p into buf[cap] (always NUL-terminated): the '\r' bar form when tty, else a
 * plain line ending in '\n'. Returns the length. */
size_t tf_progress_format(char *buf, size_t cap, const TfProgress *p, int tty);
/* ETA in seconds, or -1 when it cannot be estimated yet. */
double tf_progress_eta(const TfProgress *p);
/* Format for f (isatty(fileno(f)) picks the form), write and flush. */
void tf_progress_print(FILE *f, const TfProgress *p);
/* End a bar left on the line by tf_progress_print (prints '\n' if one is pending). */
void tf_progress_done(FILE *f);

#endif
