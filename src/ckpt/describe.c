/* describe.c - print what a checkpoint file holds: its manifest (run state, config) and a
 * table of tensors (name, shape, size, checksum, mean, max |x|), for `tinyflow ckpt` and
 * for people. The file is fully validated first. Strings from the file are printed with
 * control characters escaped. Knows nothing about models or the trainer.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ckpt/ckpt_internal.h"

/* Print text with control bytes (other than newline and tab) escaped, each line indented. */
static void put_text(FILE *out, const char *s) {
    fputs("    ", out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') fputs(s[1] ? "\n    " : "", out);
        else if (c == '\t' || (c >= 0x20 && c != 0x7f)) fputc(c, out);
        else fprintf(out, "\\x%02x", c);
    }
    fputc('\n', out);
}

int tf_ckpt_describe(const char *path, FILE *out) {
    char err[2048];
    TfCkpt *ck = NULL;
    if (tf_ckpt_load(path, &ck, err, sizeof err)) {
        fprintf(out, "INVALID: %s\n", err);
        return -1;
    }
    const TfCkptMeta *m = &ck->meta;
    struct tm tmv;
    char stamp[64] = "?";
    /* Range-check before the cast (the loader checks too): a double outside time_t is UB. */
    time_t when = (m->saved_unix >= 0 && m->saved_unix <= 1e12) ? (time_t)m->saved_unix : 0;
    if (m->saved_unix >= 0 && m->saved_unix <= 1e12 && gmtime_r(&when, &tmv)) strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    fprintf(out, "checkpoint %s (%llu bytes, valid)\n", ck->path, (unsigned long long)ck->file_bytes);
    fprintf(out, "  format version   %u (written by tinyflow %s)\n", m->format_version, m->tinyflow_version);
    fprintf(out, "  saved            %s\n", stamp);
    fprintf(out, "  architecture     %s\n", m->arch);
    fprintf(out, "  step             %llu\n", (unsigned long long)m->step);
    fprintf(out, "  epoch            %llu\n", (unsigned long long)m->epoch);
    fprintf(out, "  loader cursor    %llu\n", (unsigned long long)m->loader_cursor);
    fprintf(out, "  seed             %llu\n", (unsigned long long)m->seed);
    fprintf(out, "  rng key          0x%016llx\n", (unsigned long long)m->rng_key);
    fprintf(out, "  skipped steps    %llu (%llu in a row at save time)\n", (unsigned long long)m->skipped_steps,
            (unsigned long long)m->consecutive_skips);
    fprintf(out, "  world size       %u (at save time)\n", m->world_size);
    fprintf(out, "  training time    %.1f s\n", m->train_seconds);
    fprintf(out, "  config hash      %s (FNV-1a 64 of the text below)\n", m->config_hash);
    fprintf(out, "  config (%zu bytes):\n", strlen(m->config_text));
    put_text(out, m->config_text);
    double total = 0;
    for (int i = 0; i < ck->n_tensors; i++) total += (double)ck->tensors[i].numel;
    fprintf(out, "  tensors: %d, %.0f floats (%.2f MiB)\n", ck->n_tensors, total, total * 4 / 1048576.0);
    fprintf(out, "  %-56s %-18s %10s %10s %13s %13s\n", "name", "shape", "MiB", "crc32c", "mean", "max|x|");
    for (int i = 0; i < ck->n_tensors; i++) {
        const TfCkptTensor *t = &ck->tensors[i];
        char shape[64];
        size_t o = 0;
        for (int d = 0; d < t->ndim; d++) o += (size_t)snprintf(shape + o, sizeof shape - o, d ? "x%d" : "%d", t->shape[d]);
        double sum = 0, amax = 0;
        for (size_t k = 0; k < t->numel; k++) {
            double v = t->data[k];
            sum += v;
            if (fabs(v) > amax || isnan(v)) amax = fabs(v);
        }
        fprintf(out, "  %-56s %-18s %10.3f 0x%08x %13.6g %13.6g\n", t->name, shape, (double)t->numel * 4 / 1048576.0,
                t->crc32c, t->numel ? sum / (double)t->numel : 0.0, amax);
    }
    tf_ckpt_free(ck);
    return 0;
}
