/* flow.h - everything of the flow-matching core in one include (plain float arrays; uses only core/).
 * See docs/flow.md for the API reference and the formulas. */
#ifndef TF_FLOW_FLOW_H
#define TF_FLOW_FLOW_H

#include "flow/batch.h"
#include "flow/coupling.h"
#include "flow/draw.h"
#include "flow/gmm.h"
#include "flow/grid.h"
#include "flow/likelihood.h"
#include "flow/path.h"
#include "flow/scheduler.h"
#include "flow/solver.h"
#include "flow/velocity.h"

#endif
