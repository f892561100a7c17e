/* fault.h - test-only fault injection into training, for the reliability tests.
 *
 * Compiled in only with -DTF_FAULT_INJECTION (CMake option TINYFLOW_FAULT_INJECTION=ON);
 * otherwise every query answers 0 and a TINYFLOW_FAULT naming a training fault is reported
 * once as ignored. Spec (environment variable TINYFLOW_FAULT, comma-separated rules):
 *   KIND:RANK:STEPS[:ARG]    RANK a number or '*', STEPS N or A-B (0-based step index)
 *   nan    the rank's loss and its whole gradient become NaN at those steps
 *   inf    one gradient element becomes +inf
 *   stop   the rank stops itself (SIGSTOP): a hung rank
 *   kill   the rank kills itself (SIGKILL): a dead rank
 *   term   the rank sends itself SIGTERM (a preemption notice on one rank)
 *   evalsleep  rank 0 sleeps ARG seconds inside the evaluation after step STEPS
 *   sample the rank's first sample of the batch of step STEPS is corrupt (its values become
 *          NaN, as a sample that failed to decode); applied by src/data/loader.c, which
 *          reads the same rules itself (data/ may not use train/), so it is only named here
 * Rules prefixed ckpt: belong to src/ckpt (ckpt.h) and are skipped here; both kinds of rule
 * may be mixed in one TINYFLOW_FAULT. Every fault that fires is logged on stderr as
 * "[rank R] fault injected: KIND at step S (t=UNIX_SECONDS)" for the reliability tests'
 * detection-latency figures.
 * This file must not know about models, MPI or configs.
 */
#ifndef TF_TRAIN_FAULT_H
#define TF_TRAIN_FAULT_H

#include <stdint.h>

typedef enum { TF_FAULT_NAN, TF_FAULT_INF, TF_FAULT_STOP, TF_FAULT_KILL, TF_FAULT_TERM, TF_FAULT_EVALSLEEP,
              TF_FAULT_SAMPLE } TfFaultKind;

/* Read TINYFLOW_FAULT (once). Dies (usage) on a malformed training rule. */
void tf_train_fault_init(void);
/* 1 when a rule of this kind fires for (rank, step); *arg receives its ARG (may be NULL). */
int tf_train_fault(TfFaultKind kind, int rank, int64_t step, double *arg);
/* 1 when compiled in. */
int tf_train_fault_compiled(void);

#endif
