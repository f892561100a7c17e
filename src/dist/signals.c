/* signals.c - stop signals as a flag, taken by a waiter thread (signals.h). Knows nothing
 * about MPI or models. */
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
static int g_running = 0;

static sigset_t stop_set(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGUSR1);
    return s;
}

void tf_signals_block(void) {
    sigset_t s = stop_set();
    pthread_sigmask(SIG_BLOCK, &s, NULL);
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
    if (!g_running) return;
    atomic_store(&g_quit, 1);
    pthread_join(g_thread, NULL);
    g_running = 0;
}

const char *tf_signal_name(int sig) {
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    default: return "a signal";
    }
}
