/* energy.h - squared energy distance between two 2-D point sets (tests only):
 * 2E|X-Y| - E|X-X'| - E|Y-Y'| with U-statistics within each set (can be slightly negative). */
#ifndef TF_TEST_ENERGY_H
#define TF_TEST_ENERGY_H

#include <math.h>

static inline double energy2(const float *a, int na, const float *b, int nb) {
    double xy = 0, xx = 0, yy = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) xy += hypot(a[2 * i] - b[2 * j], a[2 * i + 1] - b[2 * j + 1]);
    for (int i = 0; i < na; i++)
        for (int j = i + 1; j < na; j++) xx += hypot(a[2 * i] - a[2 * j], a[2 * i + 1] - a[2 * j + 1]);
    for (int i = 0; i < nb; i++)
        for (int j = i + 1; j < nb; j++) yy += hypot(b[2 * i] - b[2 * j], b[2 * i + 1] - b[2 * j + 1]);
    return 2 * xy / ((double)na * nb) - 2 * xx / ((double)na * (na - 1)) - 2 * yy / ((double)nb * (nb - 1));
}

#endif
