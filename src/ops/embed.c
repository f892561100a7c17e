/* embed.c - sinusoidal timestep embedding and label (class) embedding tables.
 * Must not know about models. */
#include <math.h>

#include "core/check.h"
#include "ops/ops.h"

void tf_timestep_embed_fwd(int B, int D, float scale, float max_period, const float *t, float *out) {
    const int half = D / 2;
    for (int b = 0; b < B; b++) {
        double tt = (double)scale * t[b];
        float *o = out + (size_t)b * D;
        for (int i = 0; i < half; i++) {
            double f = exp(-log((double)max_period) * i / half);
            o[i] = (float)sin(tt * f);
            o[half + i] = (float)cos(tt * f);
        }
        if (D & 1) o[D - 1] = 0.0f;
    }
}

void tf_embedding_fwd(int B, int D, int rows, const int32_t *labels, const float *table, float *out) {
    for (int b = 0; b < B; b++) {
        int y = labels[b];
        if (y < 0 || y >= rows)
            tf_die_usage("labels must lie in [0, num_classes] (num_classes = the null class)",
                         "label embedding: label %d of sample %d is outside [0, %d)", y, b, rows);
        const float *r = table + (size_t)y * D;
        float *o = out + (size_t)b * D;
        for (int i = 0; i < D; i++) o[i] = r[i];
    }
}

void tf_embedding_bwd(int B, int D, int rows, const int32_t *labels, const float *dout, float *dtable) {
    (void)rows;
    for (int b = 0; b < B; b++) {
        float *r = dtable + (size_t)labels[b] * D;
        const float *g = dout + (size_t)b * D;
        for (int i = 0; i < D; i++) r[i] += g[i];
    }
}
