/* npy.h - NumPy .npy arrays and .npz archives, enough for evaluation I/O:
 *   - read .npy v1/v2/v3 (little-endian '<f4', '<f8', '<i4', '<i8', '|u1', '|i1'; C order),
 *   - write .npy v1.0 (header padded so the preamble is a multiple of 64 bytes, ending '\n'),
 *   - write .npz as a zip of STORED (uncompressed) members with zlib's CRC-32, which
 *     numpy.load and pytorch-fid read (`mu`, `sigma` as float64),
 *   - read one member of an .npz, stored or deflated (numpy.savez / savez_compressed; the
 *     zip64 extra fields numpy writes in local headers are skipped; sizes come from the
 *     central directory).
 * Archives above 4 GiB (zip64 central directories) are refused with a message.
 * Must not know about models, datasets or FID.
 */
#ifndef TF_EVAL_NPY_H
#define TF_EVAL_NPY_H

#include <stddef.h>
#include <stdint.h>

#define TF_NPY_MAX_DIMS 8
#define TF_NPY_MAX_BYTES ((size_t)1 << 34) /* 16 GiB */

typedef struct {
    char descr[8];                  /* "<f4", "<f8", "<i4", "<i8", "|u1", "|i1" */
    int ndim;
    int64_t shape[TF_NPY_MAX_DIMS];
    size_t itemsize, numel;
    void *data;                     /* owned, numel * itemsize bytes */
} TfNpy;

/* Parse an in-memory .npy (the data is copied). 0, or -1 with "NAME: what" in err. */
int tf_npy_decode(const unsigned char *buf, size_t len, const char *name, TfNpy *out, char *err, size_t cap);
int tf_npy_read(const char *path, TfNpy *out, char *err, size_t cap);
void tf_npy_free(TfNpy *a);

/* A complete .npy (header + data) in a new buffer of *len bytes. descr as above. */
unsigned char *tf_npy_encode(const char *descr, int ndim, const int64_t *shape, const void *data, size_t *len);
/* Write an .npy file atomically (path.tmp.PID, fsync, rename). */
int tf_npy_write(const char *path, const char *descr, int ndim, const int64_t *shape, const void *data, char *err,
                 size_t cap);

/* Write a zip of n stored members names[i] (e.g. "mu.npy") with bytes bufs[i][0..lens[i]). */
int tf_zip_write_stored(const char *path, int n, const char *const *names, const unsigned char *const *bufs,
                        const size_t *lens, char *err, size_t cap);
/* pytorch-fid statistics: mu [d] and sigma [d, d] as float64 in an .npz. */
int tf_npz_write_stats(const char *path, int d, const double *mu, const double *sigma, char *err, size_t cap);
/* Member `name` ("mu" or "mu.npy") of an .npz. */
int tf_npz_read(const char *path, const char *name, TfNpy *out, char *err, size_t cap);

#endif
