/* signals.h - SIGTERM and SIGUSR1 (Slurm's --signal, a preemption, a user) become a flag.
 *
 * No asynchronous handler ever runs: the signals are BLOCKED in every thread (block them first
 * thing in the process, before MPI, OpenMP or oneDNN start threads, which inherit the mask) and
 * one waiter thread takes them with sigtimedwait() and records the first one. (A handler would
 * run on whatever stack the interrupted thread has; JIT-compiled GEMM kernels may point the
 * stack pointer into heap buffers, and the signal frame then corrupts the heap.)
 * The trainer reads the flag at each step boundary and all ranks agree through one small
 * allreduce (MAX), so a signal on ANY rank makes every rank save and stop at the same step.
 * Send signals to the process (kill), not to one thread (pthread_kill / raise).
 * This file must not know about MPI, models or configs.
 */
#ifndef TF_DIST_SIGNALS_H
#define TF_DIST_SIGNALS_H

/* Block SIGTERM and SIGUSR1 in the calling thread (and so in threads it creates later). */
void tf_signals_block(void);
/* Block them (if not yet) and start the waiter thread that records them. */
void tf_signals_install(void);
/* The first caught signal's number, or 0. */
int tf_signals_pending(void);
/* Stop the waiter thread. The signals stay blocked (a late one stays pending and harmless). */
void tf_signals_restore(void);
/* "SIGTERM", "SIGUSR1", ... */
const char *tf_signal_name(int sig);

#endif
