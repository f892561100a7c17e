/* conv2d_dnnl.h - convolution through oneDNN primitives (internal to ops/conv2d.c).
 * Without oneDNN (TINYFLOW_GEMM=CBLAS) plan() returns 0 and conv2d.c uses im2col. */
#ifndef TF_OPS_CONV2D_DNNL_H
#define TF_OPS_CONV2D_DNNL_H

#include <stddef.h>

#include "ops/ops.h"

int tf_conv2d_dnnl_plan(TfConvShape *s, size_t *scratch_floats);
void tf_conv2d_dnnl_unplan(TfConvShape *s);
const char *tf_conv2d_dnnl_impl_name(const TfConvShape *s);
void tf_conv2d_dnnl_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                        float *scratch);
void tf_conv2d_dnnl_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                        int acc, float *dw, float *db, float *scratch);

#endif
