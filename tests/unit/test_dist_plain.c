/* test_dist_plain.c - the dist layer in a plain process (no launcher, so no MPI): a world of
 * one whose collectives leave data as it is, the core share from the affinity mask, stop
 * signals as a flag taken by the signal thread (the first one wins), and the watchdog: a phase that overruns its budget
 * ends the process with exit code 3 and a message naming the phase and step, while a disarmed
 * or regularly re-armed one never fires. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dist/dist.h"
#include "dist/signals.h"
#include "dist/watchdog.h"
#include "tf_child.h"
#include "tf_test.h"

static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts)) {}
}

static void overrun(const void *arg) {
    (void)arg;
    tf_watchdog_start(0.05);
    tf_watchdog_arm(1.0, "step", 7);
    nap(4.0);
    _exit(0); /* not reached when the watchdog works */
}

static void disarmed(const void *arg) {
    (void)arg;
    tf_watchdog_start(0.05);
    tf_watchdog_arm(0.5, "step", 1);
    tf_watchdog_disarm();
    nap(1.2);
    for (int i = 0; i < 8; i++) { /* re-armed in time: never fires */
        tf_watchdog_arm(0.5, "step", 2 + i);
        nap(0.2);
    }
    tf_watchdog_stop();
    _exit(0);
}

int main(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "PMIX_NAMESPACE",
                                 "SLURM_STEP_NUM_TASKS", "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "TINYFLOW_MPI"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) unsetenv(vars[k]);
    const TfDist *d = tf_dist_init(NULL, NULL);
    CHECK(d == tf_dist_get() && d == tf_dist_init(NULL, NULL));
    CHECK(d->mpi == 0 && d->world == 1 && d->rank == 0 && d->local_rank == 0 && d->local_size == 1);
    CHECK(!tf_dist_active());
    cpu_set_t m;
    CPU_ZERO(&m);
    CHECK(sched_getaffinity(0, sizeof m, &m) == 0);
    CHECK_MSG(d->cpus_allowed == CPU_COUNT(&m) && d->cpu_share == d->cpus_allowed && d->cpu_share >= 1,
              "cpus %d, share %d, mask %d", d->cpus_allowed, d->cpu_share, CPU_COUNT(&m));
    float f[3] = {1.5f, -2.0f, 3.25f};
    tf_dist_allreduce_sum_f32(f, 3);
    CHECK(f[0] == 1.5f && f[1] == -2.0f && f[2] == 3.25f);
    double g[2] = {0.25, 7.0};
    tf_dist_allreduce_sum_f64(g, 2);
    CHECK(g[0] == 0.25 && g[1] == 7.0);
    int fl[2] = {0, 10};
    tf_dist_allreduce_max_i32(fl, 2);
    CHECK(fl[0] == 0 && fl[1] == 10);
    uint64_t lo, hi;
    tf_dist_allreduce_minmax_u64(42, &lo, &hi);
    CHECK(lo == 42 && hi == 42);
    int src[4] = {1, 2, 3, 4}, dst[4] = {0};
    tf_dist_allgather(src, sizeof src, dst);
    CHECK(!memcmp(src, dst, sizeof src));
    tf_dist_bcast(src, sizeof src, 0);
    tf_dist_barrier();
    CHECK(src[3] == 4);

    tf_signals_install();
    CHECK(tf_signals_pending() == 0);
    kill(getpid(), SIGUSR1); /* a process-directed signal, as kill(1), mpirun and Slurm send */
    for (int i = 0; i < 100 && !tf_signals_pending(); i++) nap(0.01);
    CHECK(tf_signals_pending() == SIGUSR1);
    kill(getpid(), SIGTERM); /* caught too (not fatal); the first one is reported */
    nap(0.3);
    CHECK(tf_signals_pending() == SIGUSR1);
    CHECK(!strcmp(tf_signal_name(SIGTERM), "SIGTERM") && !strcmp(tf_signal_name(SIGUSR1), "SIGUSR1"));
    tf_signals_restore();

    char out[2048];
    int rc = tf_child_run(overrun, NULL, out, sizeof out);
    CHECK_MSG(rc == TF_EXIT_WATCHDOG, "overrun: exit %d, output: %s", rc, out);
    CHECK_MSG(strstr(out, "watchdog: step 7 did not finish within 1 s") != NULL, "message: %s", out);
    rc = tf_child_run(disarmed, NULL, out, sizeof out);
    CHECK_MSG(rc == 0, "disarmed / re-armed watchdog fired: exit %d, output: %s", rc, out);
    tf_dist_finalize();
    CHECK(tf_dist_get() != NULL);
    return tf_test_finish("test_dist_plain");
}
