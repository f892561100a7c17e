/* signals.c - stop signals as a flag, taken by a waiter thread (signals.h). Threads that a
 * library started before main() (OpenBLAS's pool, loaded through LAPACKE) never saw our mask,
 * so a stop signal may be delivered to one of them: a handler that only sets the same flag
 * (an atomic compare-and-swap, async-signal-safe) catches that case instead of the default
 * action (termination without a checkpoint). Knows nothing about MPI or models. */
#define _GNU_SOURCE
#include "dist/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/check.h"

static atomic_int g_sig = 0, g_quit = 0;
static pthread_t g_thread;
static int g_running = 0, g_handlers = 0;
static struct sigaction g_old_term, g_old_usr1;

static sigset_t stop_set(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGUSR1);
    return s;
}

static void on_stop_signal(int sig) {
    int none = 0;
    atomic_compare_exchange_strong(&g_sig, &none, sig);
}

void tf_signals_block(void) {
    sigset_t s = stop_set();
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    if (!g_handlers) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sigfillset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(SIGTERM, &sa, &g_old_term) || sigaction(SIGUSR1, &sa, &g_old_usr1))
            tf_die("sigaction for SIGTERM/SIGUSR1 failed: %s", strerror(errno));
        g_handlers = 1;
    }
}

static void *waiter(void *arg) {
    (void)arg;
    sigset_t s = stop_set();
    while (!atomic_load(&g_quit)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&s, NULL, &ts);
        if (sig > 0) {
            int none = 0;
            atomic_compare_exchange_strong(&g_sig, &none, sig);
        }
    }
    return NULL;
}

void tf_signals_install(void) {
    if (g_running) return;
    tf_signals_block();
    atomic_store(&g_quit, 0);
    if (pthread_create(&g_thread, NULL, waiter, NULL) != 0) tf_die("cannot start the signal thread");
    g_running = 1;
}

int tf_signals_pending(void) { return atomic_load(&g_sig); }

void tf_signals_restore(void) {
    if (g_running) {
        atomic_store(&g_quit, 1);
        pthread_join(g_thread, NULL);
        g_running = 0;
    }
    if (g_handlers) {
        sigaction(SIGTERM, &g_old_term, NULL);
        sigaction(SIGUSR1, &g_old_usr1, NULL);
        g_handlers = 0;
    }
}

const char *tf_signal_name(int sig) {
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    default: return "a signal";
    }
}
