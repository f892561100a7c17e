/* watchdog.c - the phase-deadline thread (watchdog.h). Knows nothing about models or configs. */
#include "dist/watchdog.h"

#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "dist/dist.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static struct {
    pthread_t thread;
    int running, stop, armed;
    double deadline, budget, poll;
    const char *what;
    int64_t step;
} g_wd;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fire(const char *what, int64_t step, double budget) {
    const TfDist *d = tf_dist_get();
    fflush(stdout);
    fprintf(stderr, "[rank %d] watchdog: %s %lld did not finish within %.0f s (trainer.step_timeout / "
                    "trainer.eval_timeout): a peer is hung or died, or the budget is too small; aborting the job "
                    "(exit %d)\n", tf_rank(), what, (long long)step, budget, TF_EXIT_WATCHDOG);
    fflush(stderr);
    alarm(20); /* hard fallback: SIGALRM ends this process should the abort itself hang */
    if (d && tf_dist_active() && d->world > 1 && d->multiple) MPI_Abort(MPI_COMM_WORLD, TF_EXIT_WATCHDOG);
    _exit(TF_EXIT_WATCHDOG);
}

static void *loop(void *arg) {
    (void)arg;
    pthread_mutex_lock(&g_mu);
    while (!g_wd.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double wake = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + g_wd.poll;
        ts.tv_sec = (time_t)wake;
        ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        if (g_wd.stop) break;
        if (g_wd.armed && now_s() > g_wd.deadline) {
            const char *what = g_wd.what;
            int64_t step = g_wd.step;
            double budget = g_wd.budget;
            pthread_mutex_unlock(&g_mu);
            fire(what, step, budget);
        }
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

void tf_watchdog_start(double poll_s) {
    pthread_mutex_lock(&g_mu);
    if (!g_wd.running) {
        g_wd.poll = poll_s > 0.01 ? poll_s : 0.01;
        g_wd.stop = 0;
        g_wd.armed = 0;
        if (pthread_create(&g_wd.thread, NULL, loop, NULL) != 0) {
            pthread_mutex_unlock(&g_mu);
            tf_die("cannot start the watchdog thread");
        }
        g_wd.running = 1;
    }
    pthread_mutex_unlock(&g_mu);
}

void tf_watchdog_arm(double budget_s, const char *what, int64_t step) {
    pthread_mutex_lock(&g_mu);
    g_wd.armed = budget_s > 0;
    g_wd.budget = budget_s;
    g_wd.deadline = now_s() + budget_s;
    g_wd.what = what;
    g_wd.step = step;
    pthread_mutex_unlock(&g_mu);
}

void tf_watchdog_disarm(void) {
    pthread_mutex_lock(&g_mu);
    g_wd.armed = 0;
    pthread_mutex_unlock(&g_mu);
}

void tf_watchdog_stop(void) {
    pthread_mutex_lock(&g_mu);
    if (!g_wd.running) {
        pthread_mutex_unlock(&g_mu);
        return;
    }
    g_wd.stop = 1;
    g_wd.armed = 0;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_wd.thread, NULL);
    g_wd.running = 0;
}
