/* ckpt.h - checkpoints: save (atomic, marked complete), load (capped, validated),
 * find the newest good one, retention, model-signature check, inspection.
 *
 * A checkpoint is one file `step_XXXXXXXX.ckpt` plus a marker `step_XXXXXXXX.done`
 * written after it (docs/checkpoints.md has the byte layout and the guarantees).
 * Tensors come and go as plain arrays of named float32 tensors; names carry a group
 * prefix: "param/", "adam_m/", "adam_v/", "ema/" followed by the model's dotted name.
 * This module must not know about models, tapes, optimizers or MPI: the caller walks
 * its own parameter table, and calls save on rank 0 only (replicas are identical).
 * Every function returns errors (0 / -1 with a message in err) except the *_or_die
 * wrappers. No write path is ever built from a string read from a checkpoint.
 */
#ifndef TF_CKPT_CKPT_H
#define TF_CKPT_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TF_CKPT_FORMAT_VERSION 1u
#define TF_CKPT_NAME_MAX 160                 /* bytes of a tensor name, without the NUL */
#define TF_CKPT_MAX_TENSORS 65536
#define TF_CKPT_MAX_FILE_BYTES (1ull << 40)  /* 1 TiB */
#define TF_CKPT_MAX_MANIFEST_BYTES (16u << 20)
#define TF_CKPT_MAX_RECORD_BYTES (64u << 10) /* one TensorRecord (metadata only) */
#define TF_CKPT_MAX_CONFIG_BYTES (4u << 20)
#define TF_CKPT_PATH_MAX 4096

/* Run state stored with the tensors. Strings are borrowed on save and owned by the
 * TfCkpt on load. */
typedef struct {
    const char *arch;             /* model architecture name, e.g. "unet" (required) */
    const char *config_text;      /* composed YAML of the run (required, may be "") */
    uint64_t step, epoch, loader_cursor, seed, rng_key, skipped_steps;
    uint64_t consecutive_skips;   /* skipped steps in a row at save time (0 in older files) */
    uint32_t world_size;          /* informational: resume at another size is fine */
    double train_seconds;         /* wall time spent training so far */
    /* filled by load (ignored by save, which writes its own values): */
    uint32_t format_version;
    const char *tinyflow_version;
    char config_hash[17];         /* FNV-1a 64 of config_text, lower-case hex */
    double saved_unix;
} TfCkptMeta;

typedef struct {
    const char *name;   /* "param/down.0.blocks.0.res.conv1.weight" */
    int ndim;           /* 1..4 */
    int shape[4];
    size_t numel;       /* = product(shape[0..ndim)) */
    const float *data;  /* save: host memory, numel floats; load: owned by the TfCkpt */
    uint32_t crc32c;    /* load: the verified checksum; save: ignored */
} TfCkptTensor;

typedef struct TfCkpt {
    char path[TF_CKPT_PATH_MAX];  /* the file it came from */
    uint64_t file_bytes;
    TfCkptMeta meta;
    TfCkptTensor *tensors;        /* [n_tensors], in file order */
    int n_tensors;
    /* private to src/ckpt: */
    void *manifest_;              /* the unpacked Manifest (owns the strings) */
    float *arena_;                /* every tensor's data, 64-byte aligned each */
    int *by_name_;                /* tensor indices sorted by name */
} TfCkpt;

/* ---- save ------------------------------------------------------------------------------ */
/* Write dir/step_<meta->step>.ckpt through a temp file (O_EXCL|O_NOFOLLOW), fsync, rename,
 * fsync dir, then the .done marker. On any failure: -1, err says which step failed and
 * why, the temp (or the unmarked file) is removed and earlier checkpoints are untouched.
 * A complete checkpoint of the same step is replaced (its marker is removed first).
 * path_out (may be NULL) receives the final path. */
int tf_ckpt_save(const char *dir, const TfCkptMeta *meta, const TfCkptTensor *t, int n,
                 char *path_out, size_t path_cap, char *err, size_t cap);

/* ---- load ------------------------------------------------------------------------------ */
/* Parse and validate a whole file (caps, shapes, names, every checksum). *out is NULL on
 * failure; err names the file, the record or tensor, and what is wrong. */
int tf_ckpt_load(const char *path, TfCkpt **out, char *err, size_t cap);
/* Load dir/step_<step>.ckpt, refusing it unless its .done marker says it is complete.
 * Opens with openat + O_NOFOLLOW inside dir; no caller string becomes part of the path. */
int tf_ckpt_load_step(const char *dir, uint64_t step, TfCkpt **out, char *err, size_t cap);
TfCkpt *tf_ckpt_load_or_die(const char *path);
void tf_ckpt_free(TfCkpt *ck);  /* NULL is fine */
/* The tensor of that full name ("param/stem.weight"), or NULL. O(log n). */
const TfCkptTensor *tf_ckpt_tensor(const TfCkpt *ck, const char *name);

/* ---- directories ------------------------------------------------------------------------ */
/* Newest COMPLETE checkpoint of dir that loads and validates: 1 and *out; 0 and *out = NULL
 * when dir has no complete checkpoint (or does not exist). A complete but bad one is
 * skipped with a warning on `warn` (may be NULL) naming the file and the reason; -1 when
 * complete checkpoints exist but none loads (err gives the newest one's reason). */
int tf_ckpt_find_latest(const char *dir, FILE *warn, TfCkpt **out, char *err, size_t cap);
/* The checkpoint folder a user's folder names: DIR/checkpoints when DIR is a run folder
 * (trainer.out_dir) that has one, else DIR itself. Writes into buf; returns buf. */
const char *tf_ckpt_dir_of(const char *dir, char *buf, size_t cap);
/* Steps of the complete checkpoints (file + marker), ascending; writes up to n_cap of them
 * and returns how many there are, or -1. */
int tf_ckpt_list(const char *dir, uint64_t *steps, int n_cap, char *err, size_t cap);
/* Keep the keep_last newest complete checkpoints plus every step % keep_every == 0
 * (keep_every 0: none); delete the others, stale temp files of crashed saves, unmarked
 * checkpoint files and orphan markers. keep_last >= 1. Returns files deleted, or -1. */
int tf_ckpt_retain(const char *dir, int keep_last, uint64_t keep_every, FILE *log, char *err,
                   size_t cap);

/* ---- compatibility --------------------------------------------------------------------- */
/* Does the checkpoint fit this model? params: the model's parameters, names WITHOUT the
 * group prefix (data ignored). arch may be NULL (not compared); config_text may be NULL
 * (no config hint). On a mismatch: -1 and err names the first difference (architecture,
 * missing/extra tensor, shape) plus, when the configs differ, the first differing model.*
 * key. Groups adam_m/adam_v/ema, when present, must cover every parameter with its shape. */
int tf_ckpt_check_signature(const TfCkpt *ck, const char *arch, const TfCkptTensor *params,
                            int n, const char *config_text, char *err, size_t cap);
void tf_ckpt_check_signature_or_die(const TfCkpt *ck, const char *arch,
                                    const TfCkptTensor *params, int n, const char *config_text);
/* First difference between two YAML config texts among keys under `prefix` ("model";
 * NULL or "" for all keys): 1 and a message in out ("model.base_ch is 64 in the checkpoint
 * but 32 in this config"), or 0 when they agree. Block-style YAML, compared by key path. */
int tf_ckpt_config_diff(const char *ckpt_text, const char *this_text, const char *prefix,
                        char *out, size_t cap);
/* FNV-1a 64 of the text's bytes (what meta.config_hash holds, in hex). */
uint64_t tf_ckpt_config_hash(const char *text);

/* ---- inspection ------------------------------------------------------------------------ */
/* Load path and print its manifest and a tensor table (name, shape, MiB, crc, mean, absmax)
 * to out. Returns 0, or -1 after printing the reason to out. */
int tf_ckpt_describe(const char *path, FILE *out);

/* ---- fault injection (reliability tests) ------------------------------------------------ */
/* Compiled in only with -DTF_FAULT_INJECTION (CMake option TINYFLOW_FAULT_INJECTION).
 * spec: "<point>:<errno>[:<skip>]" with point in open, write, fsync, close, rename, dirsync,
 * mark; errno a number or a name (ENOSPC, EIO, EDQUOT, EACCES, EROFS, EINTR...) or "kill"
 * (_exit(137) at that point). The fault fires once, at the (skip+1)-th time the point is
 * reached, then disarms. NULL or "" disarms. The env var TINYFLOW_FAULT=ckpt:<spec> is read
 * once, at the first save. Returns 0, or -1 for a bad spec or when compiled out. */
int tf_ckpt_set_fault(const char *spec);
int tf_ckpt_fault_compiled(void); /* 1 when compiled in */

#endif
