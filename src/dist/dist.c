/* dist.c - MPI start-up, node ranks, per-rank core share, checked collectives (dist.h).
 * Knows nothing about models, configs or files. */
#define _GNU_SOURCE
#include "dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static TfDist g_dist;
static int g_init = 0, g_owns_mpi = 0, g_final = 0;

#define CHUNK ((size_t)1 << 30)

static void check_mpi(int rc, const char *what, const char *file, int line) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len] = '\0';
    tf_die_at(file, line, TF_EXIT_FAILURE, "a peer rank may have died; see the other ranks' messages",
              "%s failed: %s", what, len ? msg : "unknown MPI error");
}
#define MPI_CHECK(call) check_mpi((call), #call, __FILE__, __LINE__)

static void abort_hook(int code) {
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code); /* MPI_Abort does not return; this is a fallback */
}

/* Cores this rank may use: its CPUs, each divided among the node's ranks allowed on it. */
static void core_share(MPI_Comm node) {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long c = 0; c < n && c < CPU_SETSIZE; c++) CPU_SET((int)c, &mine);
    }
    g_dist.cpus_allowed = CPU_COUNT(&mine);
    cpu_set_t *all = tf_calloc((size_t)g_dist.local_size, sizeof *all);
    MPI_CHECK(MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, node));
    double share = 0.0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &mine)) continue;
        int users = 0;
        for (int r = 0; r < g_dist.local_size; r++) users += CPU_ISSET(c, &all[r]) ? 1 : 0;
        share += 1.0 / (users > 0 ? users : 1);
    }
    free(all);
    g_dist.cpu_share = share < 1.0 ? 1 : (int)(share + 1e-9);
}

/* Started by an MPI launcher? (mpirun/mpiexec of Open MPI, MPICH, Intel MPI, MVAPICH; srun) */
static int launched(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "PMIX_NAMESPACE",
                                 "SLURM_STEP_NUM_TASKS", "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "TINYFLOW_MPI"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++)
        if (getenv(vars[k])) return 1;
    return 0;
}

/* A plain process (no launcher): a world of one without initialising MPI. */
static const TfDist *plain_process(void) {
    g_init = 1;
    g_dist.world = 1;
    g_dist.local_size = 1;
    cpu_set_t mine;
    CPU_ZERO(&mine);
    g_dist.cpus_allowed = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine)
                                                                         : (int)sysconf(_SC_NPROCESSORS_ONLN);
    g_dist.cpu_share = g_dist.cpus_allowed > 0 ? g_dist.cpus_allowed : 1;
    if (gethostname(g_dist.host, sizeof g_dist.host - 1) != 0) snprintf(g_dist.host, sizeof g_dist.host, "?");
    return &g_dist;
}

const TfDist *tf_dist_init(int *argc, char ***argv) {
    if (g_init) return &g_dist;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && !launched()) return plain_process();
    if (!inited) {
        int provided = MPI_THREAD_SINGLE;
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
        if (rc != MPI_SUCCESS) {
            fprintf(stderr, "[rank ?] MPI_Init_thread failed (code %d)\n  hint: check the MPI installation "
                            "(`mpirun -np 2 hostname`) and the launcher\n", rc);
            exit(TF_EXIT_FAILURE);
        }
        g_owns_mpi = 1;
        g_dist.thread_level = provided;
    } else {
        MPI_CHECK(MPI_Query_thread(&g_dist.thread_level));
    }
    g_init = 1;
    g_dist.mpi = 1;
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &g_dist.rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &g_dist.world));
    g_dist.multiple = g_dist.thread_level >= MPI_THREAD_MULTIPLE;
    tf_set_rank(g_dist.rank);
    if (g_dist.world > 1) tf_set_abort_hook(abort_hook);
    /* srun without PMIx (or a launcher MPI cannot talk to) starts N independent singletons. */
    const char *launch[] = {"SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t k = 0; k < sizeof launch / sizeof launch[0]; k++) {
        const char *v = getenv(launch[k]);
        if (v && atoi(v) > 1 && g_dist.world == 1)
            tf_die_usage("launch with `srun --mpi=pmix` (see `srun --mpi=list`) or mpirun; a launcher MPI cannot "
                         "reach starts every task as its own rank 0",
                         "%s=%s but MPI sees a world of 1 rank", launch[k], v);
    }
    MPI_Comm node;
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_dist.rank, MPI_INFO_NULL, &node));
    MPI_CHECK(MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(node, &g_dist.local_rank));
    MPI_CHECK(MPI_Comm_size(node, &g_dist.local_size));
    core_share(node);
    MPI_CHECK(MPI_Comm_free(&node));
    if (gethostname(g_dist.host, sizeof g_dist.host - 1) != 0) snprintf(g_dist.host, sizeof g_dist.host, "?");
    return &g_dist;
}

const TfDist *tf_dist_get(void) { return g_init ? &g_dist : NULL; }
int tf_dist_active(void) { return g_init && !g_final && g_dist.mpi; }

void tf_dist_finalize(void) {
    if (!g_init || g_final) return;
    g_final = 1;
    tf_set_abort_hook(NULL);
    if (g_owns_mpi && g_dist.mpi) MPI_Finalize();
}

void tf_dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    if (tf_dist_active() && g_dist.world > 1) MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code);
}

void tf_dist_bcast(void *buf, size_t bytes, int root) {
    if (!tf_dist_active() || g_dist.world == 1) return;
    for (size_t o = 0; o < bytes; o += CHUNK) {
        size_t n = bytes - o < CHUNK ? bytes - o : CHUNK;
        MPI_CHECK(MPI_Bcast((char *)buf + o, (int)n, MPI_BYTE, root, MPI_COMM_WORLD));
    }
}

void tf_dist_allreduce_sum_f32(float *buf, size_t n) {
    if (!tf_dist_active() || g_dist.world == 1) return;
    for (size_t o = 0; o < n; o += CHUNK) {
        size_t m = n - o < CHUNK ? n - o : CHUNK;
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf + o, (int)m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
    }
}

void tf_dist_allreduce_sum_f64(double *buf, int n) {
    if (!tf_dist_active() || g_dist.world == 1) return;
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
}

void tf_dist_allreduce_max_i32(int *buf, int n) {
    if (!tf_dist_active() || g_dist.world == 1) return;
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
}

void tf_dist_allreduce_minmax_u64(uint64_t v, uint64_t *min, uint64_t *max) {
    *min = *max = v;
    if (!tf_dist_active() || g_dist.world == 1) return;
    MPI_CHECK(MPI_Allreduce(&v, min, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Allreduce(&v, max, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD));
}

void tf_dist_allgather(const void *send, size_t bytes_each, void *recv) {
    if (!tf_dist_active() || g_dist.world == 1) {
        memmove(recv, send, bytes_each);
        return;
    }
    if (bytes_each > (size_t)INT_MAX)
        tf_die_hint("use a smaller global batch with path.ot_scope=global", "allgather of %zu bytes per rank is too large",
                    bytes_each);
    MPI_CHECK(MPI_Allgather(send, (int)bytes_each, MPI_BYTE, recv, (int)bytes_each, MPI_BYTE, MPI_COMM_WORLD));
}

void tf_dist_barrier(void) {
    if (!tf_dist_active() || g_dist.world == 1) return;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}
