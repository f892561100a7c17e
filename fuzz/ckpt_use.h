/* ckpt_use.h - what fuzz_ckpt.c and fuzz_ckpt_framed.c do with a checkpoint file: load it
 * and, when it loads, use it the way a resume and `tinyflow ckpt` do. */
#ifndef TF_FUZZ_CKPT_USE_H
#define TF_FUZZ_CKPT_USE_H

/* Load path with tf_ckpt_load(); on success look every tensor up by name, check the
 * signature against its own tensor list and a foreign model (which diffs the stored config
 * text), describe it to /dev/null, free it. abort()s when an API breaks its contract. */
void tf_fuzz_ckpt_use(const char *path);

#endif
