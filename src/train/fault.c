/* fault.c - training fault injection for reliability tests (fault.h). Compiled in only with
 * TF_FAULT_INJECTION. Knows nothing about models, MPI or configs. */
#include "train/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"

#ifdef TF_FAULT_INJECTION
#define MAX_RULES 16
static struct {
    TfFaultKind kind;
    int rank; /* -1: any */
    int64_t lo, hi;
    double arg;
} g_rules[MAX_RULES];
static int g_n = 0, g_read = 0;

static const struct { const char *name; TfFaultKind kind; } k_kinds[] = {
    {"nan", TF_FAULT_NAN}, {"inf", TF_FAULT_INF}, {"stop", TF_FAULT_STOP},
    {"kill", TF_FAULT_KILL}, {"term", TF_FAULT_TERM}, {"evalsleep", TF_FAULT_EVALSLEEP},
    {"sample", TF_FAULT_SAMPLE}};

static void bad(const char *rule) {
    tf_die_usage("TINYFLOW_FAULT=KIND:RANK:STEP[-STEP][:ARG],... with KIND nan, inf, stop, kill, term, evalsleep "
                 "or sample (and ckpt:POINT:ERR[:SKIP[:SAVE]] rules)",
                 "malformed fault rule '%s'", rule);
}

static void parse_rule(char *rule) {
    if (!strncmp(rule, "ckpt:", 5) || !rule[0]) return;
    char *f[4] = {0};
    int nf = 0;
    for (char *p = rule; p && nf < 4; nf++) {
        f[nf] = p;
        p = strchr(p, ':');
        if (p) *p++ = '\0';
    }
    if (nf < 3 || g_n >= MAX_RULES) bad(rule);
    int k = -1;
    for (size_t i = 0; i < sizeof k_kinds / sizeof k_kinds[0]; i++)
        if (!strcmp(f[0], k_kinds[i].name)) k = (int)i;
    if (k < 0) bad(f[0]);
    g_rules[g_n].kind = k_kinds[k].kind;
    char *end;
    g_rules[g_n].rank = strcmp(f[1], "*") ? (int)strtol(f[1], &end, 10) : -1;
    if (strcmp(f[1], "*") && (*end || end == f[1])) bad(f[1]);
    g_rules[g_n].lo = strtoll(f[2], &end, 10);
    g_rules[g_n].hi = g_rules[g_n].lo;
    if (*end == '-') g_rules[g_n].hi = strtoll(end + 1, &end, 10);
    if (*end || g_rules[g_n].hi < g_rules[g_n].lo) bad(f[2]);
    g_rules[g_n].arg = f[3] ? strtod(f[3], NULL) : 0.0;
    g_n++;
}

void tf_train_fault_init(void) {
    if (g_read) return;
    g_read = 1;
    const char *env = getenv("TINYFLOW_FAULT");
    if (!env || !env[0]) return;
    char buf[1024];
    if (strlen(env) >= sizeof buf) bad(env);
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) parse_rule(r);
    if (tf_rank() == 0) fprintf(stderr, "[rank 0] fault injection armed: TINYFLOW_FAULT=%s\n", env);
}

int tf_train_fault(TfFaultKind kind, int rank, int64_t step, double *arg) {
    for (int i = 0; i < g_n; i++)
        if (g_rules[i].kind == kind && (g_rules[i].rank < 0 || g_rules[i].rank == rank) && step >= g_rules[i].lo &&
            step <= g_rules[i].hi) {
            if (arg) *arg = g_rules[i].arg;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            fprintf(stderr, "[rank %d] fault injected: %s at step %lld (t=%.3f)\n", rank, k_kinds[kind].name,
                    (long long)step, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
            fflush(stderr);
            return 1;
        }
    return 0;
}

int tf_train_fault_compiled(void) { return 1; }

#else

void tf_train_fault_init(void) {
    const char *env = getenv("TINYFLOW_FAULT");
    if (env && env[0] && strncmp(env, "ckpt:", 5) && tf_rank() == 0)
        fprintf(stderr, "[rank 0] TINYFLOW_FAULT=%s ignored: fault injection is compiled out "
                        "(configure with -DTINYFLOW_FAULT_INJECTION=ON)\n", env);
}
int tf_train_fault(TfFaultKind kind, int rank, int64_t step, double *arg) {
    (void)kind; (void)rank; (void)step; (void)arg;
    return 0;
}
int tf_train_fault_compiled(void) { return 0; }

#endif
