/* progress.c - console progress line / bar (progress.h).
 * This file must not know about models, MPI, training internals or the other sinks. */
#include "track/progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static int g_bar_pending = 0;

double tf_progress_eta(const TfProgress *p) {
    int64_t done = p->step - p->start_step;
    if (p->total_steps <= 0 || done <= 0 || !(p->elapsed_s > 0)) return -1;
    double left = (double)(p->total_steps - p->step);
    if (left < 0) left = 0;
    return left * p->elapsed_s / (double)done;
}

static void fmt_hms(char *out, size_t cap, double s) {
    if (s < 0 || !isfinite(s)) {
        snprintf(out, cap, "--:--:--");
        return;
    }
    long long t = (long long)(s + 0.5);
    snprintf(out, cap, "%lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
}

size_t tf_progress_format(char *buf, size_t cap, const TfProgress *p, int tty) {
    char eta[32], tot[32] = "?";
    fmt_hms(eta, sizeof eta, tf_progress_eta(p));
    if (p->total_steps > 0) snprintf(tot, sizeof tot, "%lld", (long long)p->total_steps);
    double frac = p->total_steps > 0 ? (double)p->step / (double)p->total_steps : 0;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int k;
    if (tty) {
        enum { BAR = 24 };
        char bar[BAR + 1];
        int fill = (int)(frac * BAR + 1e-9);
        for (int i = 0; i < BAR; i++) bar[i] = i < fill ? '#' : '.';
        bar[BAR] = '\0';
        k = snprintf(buf, cap,
                     "\rep %d [%s] %lld/%s %5.1f%% | loss %.4g | lr %.2e | gnorm %.3g | %.1f img/s | ETA %s\033[K",
                     p->epoch, p->total_steps > 0 ? bar : "", (long long)p->step, tot, 100.0 * frac, p->loss, p->lr,
                     p->grad_norm, p->images_per_s, eta);
    } else {
        k = snprintf(buf, cap,
                     "epoch %d step %lld/%s (%.1f%%) loss %.6g lr %.4e grad_norm %.4g img/s %.1f eta %s\n",
                     p->epoch, (long long)p->step, tot, 100.0 * frac, p->loss, p->lr, p->grad_norm,
                     p->images_per_s, eta);
    }
    if (k < 0) {
        if (cap) buf[0] = '\0';
        return 0;
    }
    return (size_t)k < cap ? (size_t)k : cap ? cap - 1 : 0;
}

void tf_progress_print(FILE *f, const TfProgress *p) {
    char line[512];
    int tty = isatty(fileno(f));
    size_t n = tf_progress_format(line, sizeof line, p, tty);
    /* Console write errors are deliberately ignored: a closed terminal or a full pipe must not
     * stop training; every file the run depends on goes through the checked sinks instead. */
    (void)fwrite(line, 1, n, f);
    (void)fflush(f);
    g_bar_pending = tty;
}

void tf_progress_done(FILE *f) {
    if (g_bar_pending) (void)fputc('\n', f);
    (void)fflush(f);
    g_bar_pending = 0;
}
