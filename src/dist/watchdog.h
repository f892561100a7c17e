/* watchdog.h - a per-rank thread that ends the WHOLE job when the current phase (a training
 * step, an evaluation, a checkpoint save) runs past its time budget: a hung peer, a
 * collective that never completes, a stuck file system. mpirun notices dead ranks but not
 * stuck ones; this catches those. On expiry it prints
 *   [rank r] watchdog: <what> <step> did not finish within <budget> s (...)
 * then calls MPI_Abort(MPI_COMM_WORLD, TF_EXIT_WATCHDOG) (when MPI gives THREAD_MULTIPLE;
 * otherwise _exit(3), which mpirun also turns into a job abort), with alarm() as a hard
 * fallback should the abort itself hang.
 * The caller arms it at each phase with that phase's budget: every rank knows when rank 0
 * evaluates or saves (a fixed schedule, or an agreed stop), so waiting ranks arm the larger
 * budget for that step too and an evaluation never trips the step timeout of its peers.
 * This file must not know about models, configs or what a phase does.
 */
#ifndef TF_DIST_WATCHDOG_H
#define TF_DIST_WATCHDOG_H

#include <stdint.h>

/* Start the thread (once). poll_s: how often it looks (e.g. 0.25). */
void tf_watchdog_start(double poll_s);
/* Deadline = now + budget_s for phase `what` (a static string) at `step`; budget_s <= 0 disarms. */
void tf_watchdog_arm(double budget_s, const char *what, int64_t step);
void tf_watchdog_disarm(void);
/* Stop and join the thread. */
void tf_watchdog_stop(void);

#endif
