/* model_velocity.h - a built model (TfTape) as the flow core's TfVelocityModel:
 * the bridge that lets the solvers, guidance and likelihood of src/flow drive
 * the engine. Calls with fewer samples than the tape's batch are zero-padded.
 * The VJP needs a tape built with TF_BUILD_INPUT_GRAD.
 * Must not know about files, configs or MPI. */
#ifndef TF_EVAL_MODEL_VELOCITY_H
#define TF_EVAL_MODEL_VELOCITY_H

#include "flow/velocity.h"
#include "model/tape.h"

typedef struct {
    TfVelocityModel model; /* what the solvers use; model.ctx points back here */
    TfTape *tp;
    int null_label;        /* label used when the caller passes none (num_classes, or 0) */
    long calls;            /* tape forward passes run (each up to tp->batch samples) */
} TfTapeVelocity;

/* tp must be a finished UNet or MLP tape (input and output of equal size). Do not move *tv. */
void tf_tape_velocity_init(TfTapeVelocity *tv, TfTape *tp, int num_classes);

#endif
