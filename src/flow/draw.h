/* draw.h - every random draw of flow matching, keyed through core/rng.h.
 *
 * Each draw is a pure function of (seed, stream, step, GLOBAL sample index): `first` is the global
 * index of row 0 of the caller's slice (rank * per_rank_batch on a data-parallel run, plus the
 * micro-batch offset), so a 2-rank run draws exactly what a 1-rank run draws for the same samples.
 * Streams: TF_STREAM_TIME (t), TF_STREAM_NOISE (x0 for training), TF_STREAM_SAMPLE (x0 for
 * generation; dequantisation noise), TF_STREAM_LABELDROP (CFG label dropout), TF_STREAM_PROBE
 * (Hutchinson probes). Must not know about ranks, models or files.
 */
#ifndef TF_FLOW_DRAW_H
#define TF_FLOW_DRAW_H

#include <stdint.h>

/* Training-time distribution of t. */
typedef enum {
    TF_TIME_UNIFORM = 0, /* t = t_min + (t_max - t_min) u, u ~ U[0, 1)  (range restriction, no point masses) */
    TF_TIME_LOGIT_NORMAL /* t = clamp(sigmoid(mean + std n), t_min, t_max), n ~ N(0, 1) */
} TfTimeKind;

typedef struct {
    TfTimeKind kind;
    double mean, std;   /* LOGIT_NORMAL only */
    double t_min, t_max; /* 0 <= t_min < t_max <= 1 */
} TfTimeSampler;

/* The default: uniform on [0, 1]. (Never train on [0, 0.99) and then sample up to t = 1.) */
TfTimeSampler tf_time_uniform(void);
TfTimeSampler tf_time_logit_normal(double mean, double std);
/* EDM's log-normal "skewed timesteps" (Karras et al. 2022; Meta flow_matching image example):
 * sigma = exp(-1.2 + 1.2 n), t = 1 / (1 + sigma) = sigmoid(1.2 - 1.2 n), clipped to [1e-4, 1]
 * -- i.e. logit-normal with mean 1.2, std 1.2 (mass pushed towards the data end). */
TfTimeSampler tf_time_skewed(void);
/* Restrict/clip to [t_min, t_max]; dies naming the values unless 0 <= t_min < t_max <= 1. */
TfTimeSampler tf_time_clip(TfTimeSampler ts, double t_min, double t_max);

/* t[i] for global samples first .. first+n-1 (stream TF_STREAM_TIME, element 0). */
void tf_draw_time(const TfTimeSampler *ts, uint64_t seed, uint64_t step, uint64_t first, int n, float *t);

/* x0[i][0..dim) ~ N(0, I), elements 0..dim-1 of the stream of (seed, stream, step, first + i).
 * stream is TF_STREAM_NOISE for training and TF_STREAM_SAMPLE for generation. */
void tf_draw_noise(uint32_t stream, uint64_t seed, uint64_t step, uint64_t first, int n, int dim, float *x0);

/* CFG label dropout, decided PER SAMPLE: out[i] = num_classes (the null class) with probability p,
 * else labels[i] (stream TF_STREAM_LABELDROP). out may alias labels. */
void tf_draw_label_dropout(uint64_t seed, uint64_t step, uint64_t first, int n, double p, int num_classes,
                           const int *labels, int *out);

/* z[i][0..dim) in {-1, +1} with equal probability: probe number `probe` of sample first + i, from
 * words probe*dim .. probe*dim + dim - 1 of the stream (seed, TF_STREAM_PROBE, step, first + i). */
void tf_draw_rademacher(uint64_t seed, uint64_t step, uint64_t first, int n, int dim, int probe, float *z);

/* Uniform dequantisation of 8-bit data into the model's [-1, 1] scale:
 *   x = (k + u) * scale - 1,  u ~ U[0, 1).
 * scale = 1/128 (TF_BPD_SCALE_U8 in likelihood.h): k = 0 -> [-1, -1 + 1/128), k = 255 -> [1 - 1/128, 1]
 * (1 itself only through float rounding).
 * scale = 1/127.5 matches data loaded as k / 127.5 - 1 (then x reaches 1 + 1/127.5). Pass the SAME
 * scale to tf_bits_per_dim, and use the scale the model was trained with.
 * Stream TF_STREAM_SAMPLE, elements starting at 2^32 (disjoint from the generation noise). */
void tf_draw_dequantize_u8(uint64_t seed, uint64_t step, uint64_t first, int n, int dim,
                           const unsigned char *k, double scale, float *x);

#endif
