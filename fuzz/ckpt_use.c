/* ckpt_use.c - the checkpoint follow-up shared by fuzz_ckpt.c and fuzz_ckpt_framed.c
 * (ckpt_use.h): load, look up, check signatures, describe. Knows only ckpt.h. */
#include "ckpt_use.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt.h"

void tf_fuzz_ckpt_use(const char *path) {
    TfCkpt *ck = NULL;
    char err[2048] = "";
    if (tf_ckpt_load(path, &ck, err, sizeof err) != 0) {
        if (ck || !err[0]) abort(); /* the contract: *out is NULL and err says why */
        return;
    }
    /* Every tensor is found by its name, and the "param/" group matches itself as a model. */
    TfCkptTensor *params = calloc((size_t)ck->n_tensors + 1, sizeof *params);
    if (!params) abort();
    int np = 0;
    for (int i = 0; i < ck->n_tensors; i++) {
        const TfCkptTensor *t = &ck->tensors[i];
        if (tf_ckpt_tensor(ck, t->name) != t) abort();
        if (strncmp(t->name, "param/", 6) == 0) {
            params[np] = *t;
            params[np].name = t->name + 6;
            np++;
        }
    }
    char why[2048];
    (void)tf_ckpt_check_signature(ck, ck->meta.arch, params, np, ck->meta.config_text, why, sizeof why);
    (void)tf_ckpt_check_signature(ck, "mlp", params, np / 2, "model:\n  name: mlp\n  hidden: 64\n", why,
                                  sizeof why);
    free(params);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        (void)tf_ckpt_describe(path, null);
        fclose(null);
    }
    tf_ckpt_free(ck);
}
