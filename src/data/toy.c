/* toy.c - the 2-D toy generators of toy.h, each point keyed by (seed, split, index).
 * Knows nothing about files, loaders or configs. */
#include "data/toy.h"

#include <math.h>

#include "core/check.h"
#include "core/rng.h"

#define PI 3.14159265358979323846

void tf_toy_point(TfDataKind kind, uint64_t seed, int split, uint64_t index, float out[2], int *label) {
    /* Words of one generator: 0 = class / cell, 1..2 = uniforms, 4..5 = normals (own block). */
    TfRng r = tf_rng(seed, TF_STREAM_TOY, (uint64_t)split, index);
    double x = 0, y = 0;
    int lab = 0;
    switch (kind) {
    case TF_DATA_MOONS: {
        lab = (int)tf_rng_below(&r, 0, 2);
        double t = PI * tf_rng_uniform(&r, 1);
        if (lab == 0) { x = cos(t); y = sin(t); }
        else { x = 1.0 - cos(t); y = 0.5 - sin(t); }
        x += 0.05 * tf_rng_normal(&r, 4);
        y += 0.05 * tf_rng_normal(&r, 5);
        x = (x - 0.5) * 2.0;
        y = (y - 0.25) * 2.0;
        break;
    }
    case TF_DATA_8GAUSSIANS: {
        lab = (int)tf_rng_below(&r, 0, 8);
        double a = lab * PI / 4.0;
        x = 2.0 * cos(a) + 0.2 * tf_rng_normal(&r, 4);
        y = 2.0 * sin(a) + 0.2 * tf_rng_normal(&r, 5);
        break;
    }
    case TF_DATA_CHECKERBOARD: {
        int k = (int)tf_rng_below(&r, 0, 8), row = k / 2, col = 2 * (k % 2) + (row % 2);
        x = -2.0 + col + tf_rng_uniform(&r, 1);
        y = -2.0 + row + tf_rng_uniform(&r, 2);
        break;
    }
    case TF_DATA_CIRCLES: {
        lab = (int)tf_rng_below(&r, 0, 2);
        double rad = lab == 0 ? 2.0 : 1.0, a = 2.0 * PI * tf_rng_uniform(&r, 1);
        x = rad * cos(a) + 0.05 * tf_rng_normal(&r, 4);
        y = rad * sin(a) + 0.05 * tf_rng_normal(&r, 5);
        break;
    }
    default:
        TF_ASSERT(!"tf_toy_point: not a toy kind");
    }
    out[0] = (float)x;
    out[1] = (float)y;
    if (label) *label = lab;
}
