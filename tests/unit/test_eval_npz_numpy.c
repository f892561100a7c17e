/* test_eval_npz_numpy.c - the .npz statistics files are what numpy (and so pytorch-fid) reads,
 * and the Fréchet distance agrees with an independent implementation:
 *   - /usr/bin/python3 with numpy loads our mu.npy / sigma.npy (float64, shapes (d,), (d, d))
 *     and finds the values we wrote;
 *   - numpy computes FD from two of our files by the torchmetrics route (eigenvalues of the
 *     NON-symmetric product S1 S2, sum of sqrt of their real parts), which must match
 *     tf_frechet_distance to 1e-8 relative;
 *   - we read numpy's own numpy.savez and numpy.savez_compressed output (stored + deflate,
 *     numpy's zip64 local extra fields) back bitwise.
 * Exits 77 (skipped) when /usr/bin/python3 or numpy is missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "eval/frechet.h"
#include "eval/npy.h"
#include "tf_test.h"

#define D 20

static void make(uint64_t seed, double *mu, double *s) {
    TfRng r = tf_rng(seed, TF_STREAM_USER, 0, 0);
    double x[40 * D];
    for (int i = 0; i < 40 * D; i++) x[i] = tf_rng_normal(&r, (uint64_t)i) * (1 + (i % D) * 0.2);
    for (int i = 0; i < D; i++) {
        mu[i] = tf_rng_normal(&r, 10000 + (uint64_t)i);
        for (int j = 0; j < D; j++) {
            double acc = 0;
            for (int k = 0; k < 40; k++) acc += x[k * D + i] * x[k * D + j];
            s[i * D + j] = acc / 39;
        }
    }
}

int main(void) {
    if (access("/usr/bin/python3", X_OK) || system("/usr/bin/python3 -c 'import numpy' 2>/dev/null")) {
        printf("test_eval_npz_numpy: /usr/bin/python3 with numpy not found, skipped\n");
        return TF_TEST_SKIP;
    }
    char dir[] = "/tmp/tf_test_npz_XXXXXX", a[128], b[128], cmd[2048], err[1024];
    if (!mkdtemp(dir)) return 1;
    snprintf(a, sizeof a, "%s/a.npz", dir);
    snprintf(b, sizeof b, "%s/b.npz", dir);
    double mu1[D], s1[D * D], mu2[D], s2[D * D], fd;
    make(1, mu1, s1);
    make(2, mu2, s2);
    CHECK(tf_npz_write_stats(a, D, mu1, s1, err, sizeof err) == 0);
    CHECK(tf_npz_write_stats(b, D, mu2, s2, err, sizeof err) == 0);
    CHECK(tf_frechet_distance(D, mu1, s1, mu2, s2, &fd, NULL, err, sizeof err) == 0);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, sys\n"
             "a = np.load('%s'); b = np.load('%s')\n"
             "assert sorted(a.files) == ['mu', 'sigma'], a.files\n"
             "assert a['mu'].dtype == np.float64 and a['mu'].shape == (%d,) and a['sigma'].shape == (%d, %d)\n"
             "assert abs(a['mu'][3] - %.17g) == 0 and abs(a['sigma'][2, 5] - %.17g) == 0\n"
             "ev = np.linalg.eigvals(a['sigma'] @ b['sigma'])\n"
             "d = a['mu'] - b['mu']\n"
             "fd = d @ d + np.trace(a['sigma']) + np.trace(b['sigma']) - 2 * np.sqrt(ev.real.clip(0)).sum()\n"
             "ok = abs(fd - %.17g) <= 1e-8 * abs(fd)\n"
             "print('numpy (eigvals of S1 S2) FD = %%.12f, tinyflow %.12f' %% fd)\n"
             "np.savez('%s/n.npz', mu=np.arange(5.0), sigma=np.eye(5))\n"
             "np.savez_compressed('%s/z.npz', mu=np.arange(7.0) / 3)\n"
             "sys.exit(0 if ok else 3)\"",
             a, b, D, D, D, mu1[3], s1[2 * D + 5], fd, fd, dir, dir);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "python check exited with %d", rc);
    TfNpy m;
    snprintf(a, sizeof a, "%s/n.npz", dir);
    CHECK_MSG(tf_npz_read(a, "sigma", &m, err, sizeof err) == 0, "%s", err);
    CHECK(m.ndim == 2 && m.shape[0] == 5 && ((double *)m.data)[6] == 1.0 && ((double *)m.data)[7] == 0.0);
    tf_npy_free(&m);
    snprintf(b, sizeof b, "%s/z.npz", dir);
    CHECK_MSG(tf_npz_read(b, "mu", &m, err, sizeof err) == 0, "%s", err);
    CHECK(m.ndim == 1 && m.shape[0] == 7 && ((double *)m.data)[4] == 4.0 / 3);
    tf_npy_free(&m);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return tf_test_finish("test_eval_npz_numpy");
}
