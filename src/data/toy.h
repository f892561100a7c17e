/* toy.h - 2-D toy distributions for quick experiments and tests. Point i of a set is a pure
 * function of (seed, split, i) through core/rng.h (TF_STREAM_TOY), so any rank can make any
 * point and a set never needs storing.
 *   moons        two interleaved half circles (sklearn's make_moons, noise 0.05), centred,
 *                scaled by 2; label 0 = upper moon, 1 = lower moon
 *   8gaussians   N(c_k, 0.2^2 I) with c_k = 2 (cos k pi/4, sin k pi/4); label k
 *   checkerboard uniform on the 8 dark cells of a 4x4 board covering [-2, 2]^2; label 0
 *   circles      radius 2 (label 0) or 1 (label 1), uniform angle, noise 0.05
 * This file knows nothing about files, loaders or configs. */
#ifndef TF_DATA_TOY_H
#define TF_DATA_TOY_H

#include <stdint.h>

#include "data/dataset.h"

/* kind must be a toy kind; split 0 = train, 1 = test. */
void tf_toy_point(TfDataKind kind, uint64_t seed, int split, uint64_t index, float out[2], int *label);

#endif
