/* ckpt_compare.c - compares and inspects training checkpoints for the MPI tests.
 *   ckpt_compare A.ckpt B.ckpt [--tol REL] [--group G]   every tensor of A (or of group G) against
 *       B's tensor of the same name: bitwise (default) or |a - b| <= REL * max|b| (per tensor: the
 *       error relative to the tensor's scale, since single elements may sit near zero).
 *       Also compares step, epoch, loader cursor and skipped steps. Prints the largest difference.
 *   ckpt_compare --meta A.ckpt         prints "step E epoch C cursor S skipped W world" and checks
 *       that every tensor is finite.
 * Exit 0 when equal (within REL) / valid, 1 otherwise. Uses src/ckpt only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt.h"

static TfCkpt *load(const char *p) {
    TfCkpt *ck = NULL;
    char err[2048];
    if (tf_ckpt_load(p, &ck, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return ck;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "--meta")) {
        TfCkpt *ck = load(argv[2]);
        long bad = 0;
        for (int i = 0; i < ck->n_tensors; i++)
            for (size_t k = 0; k < ck->tensors[i].numel; k++) bad += !isfinite(ck->tensors[i].data[k]);
        printf("step %llu epoch %llu cursor %llu skipped %llu world %u tensors %d nonfinite %ld\n",
               (unsigned long long)ck->meta.step, (unsigned long long)ck->meta.epoch,
               (unsigned long long)ck->meta.loader_cursor, (unsigned long long)ck->meta.skipped_steps,
               ck->meta.world_size, ck->n_tensors, bad);
        tf_ckpt_free(ck);
        return bad ? 1 : 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: ckpt_compare A.ckpt B.ckpt [--tol REL] [--group G] | --meta A.ckpt\n");
        return 2;
    }
    double tol = 0;
    const char *group = NULL;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--tol")) tol = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--group")) group = argv[i + 1];
    }
    TfCkpt *a = load(argv[1]), *b = load(argv[2]);
    int ok = 1, compared = 0;
    if (!group && (a->meta.step != b->meta.step || a->meta.epoch != b->meta.epoch ||
                   a->meta.loader_cursor != b->meta.loader_cursor || a->meta.skipped_steps != b->meta.skipped_steps)) {
        printf("run state differs: step %llu/%llu epoch %llu/%llu cursor %llu/%llu skipped %llu/%llu\n",
               (unsigned long long)a->meta.step, (unsigned long long)b->meta.step, (unsigned long long)a->meta.epoch,
               (unsigned long long)b->meta.epoch, (unsigned long long)a->meta.loader_cursor,
               (unsigned long long)b->meta.loader_cursor, (unsigned long long)a->meta.skipped_steps,
               (unsigned long long)b->meta.skipped_steps);
        ok = 0;
    }
    double worst = 0;
    const char *worst_name = "";
    long differing = 0;
    for (int i = 0; i < a->n_tensors; i++) {
        const TfCkptTensor *ta = &a->tensors[i];
        size_t gl = group ? strlen(group) : 0;
        if (group && (strncmp(ta->name, group, gl) || ta->name[gl] != '/')) continue;
        const TfCkptTensor *tb = tf_ckpt_tensor(b, ta->name);
        if (!tb || tb->numel != ta->numel) {
            printf("%s: missing or of another size in %s\n", ta->name, argv[2]);
            ok = 0;
            continue;
        }
        compared++;
        double absmax = 0;
        for (size_t k = 0; k < tb->numel; k++) absmax = fmax(absmax, fabs(tb->data[k]));
        for (size_t k = 0; k < ta->numel; k++) {
            double x = ta->data[k], y = tb->data[k];
            if (memcmp(&ta->data[k], &tb->data[k], sizeof(float)) == 0) continue;
            differing++;
            double rel = fabs(x - y) / fmax(absmax, 1e-30);
            if (!(rel <= worst)) { worst = rel; worst_name = ta->name; }
        }
    }
    if (!compared) { printf("no tensors compared\n"); ok = 0; }
    int within = tol > 0 ? worst <= tol : differing == 0;
    printf("%d tensors compared: %ld values differ, largest relative difference %.3g%s%s (%s)\n", compared, differing,
           worst, worst_name[0] ? " in " : "", worst_name, within ? "ok" : "TOO LARGE");
    tf_ckpt_free(a);
    tf_ckpt_free(b);
    return ok && within ? 0 : 1;
}
