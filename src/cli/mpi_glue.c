/* mpi_glue.c - dist-layer start-up around a command and the MPI reducers the evaluation code
 * receives as callbacks (see mpi_glue.h). Every MPI call is checked; a failure ends the job
 * through tf_die, whose hook (installed by tf_dist_init) calls MPI_Abort.
 * Knows MPI and dist/, not what the commands compute. */
#include "cli/mpi_glue.h"

#include <mpi.h>
#include <omp.h>
#include <stdlib.h>

#include "core/check.h"
#include "dist/dist.h"
#include "dist/signals.h"

int tf_cli_run_mpi(const TfJobCommand *cmd, int argc, char **argv, int stop_signals) {
    if (stop_signals) tf_signals_block();
    tf_dist_init(NULL, NULL);
    int rc = tf_job_main(cmd, argc, argv);
    tf_dist_finalize();
    return rc;
}

int tf_cli_eval_threads(const TfCfg *cfg) {
    if (tf_cfg_has(cfg, "trainer.threads") && !tf_cfg_is_null(cfg, "trainer.threads")) {
        int t = (int)tf_cfg_get_int(cfg, "trainer.threads");
        omp_set_num_threads(t);
        return t;
    }
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
    const TfDist *d = tf_dist_get();
    if (d && d->mpi && d->world > 1) {
        omp_set_num_threads(d->cpu_share);
        return d->cpu_share;
    }
    return 0;
}

int tf_cli_rank(void) {
    const TfDist *d = tf_dist_get();
    return d ? d->rank : 0;
}

static void mpi_allreduce_f64(void *ctx, double *buf, size_t n, int op) {
    (void)ctx;
    for (size_t off = 0; off < n;) {
        int cnt = n - off > ((size_t)1 << 30) ? 1 << 30 : (int)(n - off);
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + off, cnt, MPI_DOUBLE, op == TF_REDUCE_MAX ? MPI_MAX : MPI_SUM,
                               MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) tf_die("MPI_Allreduce of %d doubles failed (MPI error %d)", cnt, rc);
        off += (size_t)cnt;
    }
}

TfReducer tf_cli_reducer(void) {
    TfReducer r = {mpi_allreduce_f64, NULL, 0, 1};
    const TfDist *d = tf_dist_get();
    if (d && d->mpi && tf_dist_active()) {
        r.rank = d->rank;
        r.world = d->world;
    }
    return r;
}

void tf_cli_allreduce_f32(void *ctx, float *buf, size_t n) {
    (void)ctx;
    tf_dist_allreduce_sum_f32(buf, n);
}
