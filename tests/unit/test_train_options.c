/* test_train_options.c - the config -> trainer options mapping (train/options.h) on the shipped
 * configs: model, data, path (scheduler, time sampler, coupling scope, label dropout only for
 * class-conditional models), optimizer and schedule, trainer keys with their null forms,
 * eval.solver.* over solver.*, the watchdog budgets, a combination the trainer refuses
 * (sigma_min on a non-CondOT path, exit 2 naming the key), and the toy-data raster image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_child.h"
#include "tf_test.h"
#include "train/options.h"
#include "train/train_internal.h"

static char g_configs[1100];

static TfCfg *compose(const char **ovs, int n) {
    TfCfg *cfg = NULL;
    TfCfgError e;
    if (tf_cfg_compose(g_configs, "config", ovs, n, &cfg, &e) || tf_cfg_validate(cfg, 1, &e)) {
        fprintf(stderr, "config: %s\n", e.msg);
        return NULL;
    }
    return cfg;
}

static void read_bad(const void *arg) {
    TfTrainOpts o;
    tf_train_opts_read((const TfCfg *)arg, &o);
}

int main(void) {
    snprintf(g_configs, sizeof g_configs, "%s", __FILE__);
    char *cut = strstr(g_configs, "tests/unit/");
    if (!cut) return 77;
    strcpy(cut, "configs");

    const char *moons[] = {"experiment=moons"};
    TfCfg *c = compose(moons, 1);
    CHECK(c != NULL);
    if (!c) return tf_test_finish("test_train_options");
    TfTrainOpts o;
    tf_train_opts_read(c, &o);
    CHECK(o.model.kind == TF_MODEL_MLP && o.model.in_ch == 2 && o.model.image_size == 1 && o.model.num_classes == 0);
    CHECK(o.is_toy && !strcmp(o.dataset, "moons") && o.batch == 256 && o.n_samples == 100000);
    CHECK(o.lr.decay == TF_LR_CONSTANT && o.lr.lr == 1e-3 && o.lr.warmup == 0);
    CHECK(o.steps == 5000 && o.epochs == 0 && o.micro_batch == 0 && o.threads == 0);
    CHECK(fabs(o.ema_decay - 0.999) < 1e-12 && o.eval_every == 1000 && o.eval_n == 1024 && o.grid_rows == 0);
    CHECK(o.flow.sched.kind == TF_SCHED_CONDOT && o.flow.coupling == TF_COUPLING_INDEPENDENT && !o.ot_global);
    CHECK(o.flow.label_drop == 0.0); /* unconditional: no label dropout */
    CHECK(o.solver == TF_SOLVER_EULER && o.solver_steps == 100 && o.guidance == 1.0 && !o.edm_grid);
    CHECK(o.grad_clip == 1.0 && o.adam.kind == TF_OPTIM_ADAM && o.adam.beta2 == 0.999f);
    CHECK(o.step_timeout == 600 && o.eval_timeout == 3600 && !strcmp(o.resume, "auto"));
    tf_cfg_destroy(c);

    const char *mnist[] = {"experiment=mnist", "path=cosine", "path.coupling=ot", "path.ot_scope=global",
                           "solver=dopri5", "eval.solver.steps=7", "eval.solver.guidance=3.0", "optim=adamw",
                           "optim.grad_clip=null", "trainer.micro_batch=32", "trainer.threads=3",
                           "lr_schedule=warmup_linear", "trainer.step_timeout=5", "trainer.eval_timeout=2",
                           "path.time_sampling=logit_normal", "path.clip=0.01"};
    c = compose(mnist, (int)(sizeof mnist / sizeof mnist[0]));
    CHECK(c != NULL);
    if (!c) return tf_test_finish("test_train_options");
    tf_train_opts_read(c, &o);
    CHECK(o.model.kind == TF_MODEL_UNET && o.model.base_ch == 32 && o.model.n_mult == 3 && o.model.ch_mult[1] == 2);
    CHECK(o.model.n_attn == 1 && o.model.attn_res[0] == 7 && o.model.groups == 8 && o.model.num_classes == 10);
    CHECK(!o.is_toy && o.model.in_ch == 1 && o.model.image_size == 28);
    CHECK(o.flow.sched.kind == TF_SCHED_COSINE && o.flow.coupling == TF_COUPLING_OT && o.ot_global);
    CHECK(fabs(o.flow.label_drop - 0.1) < 1e-12 && o.flow.num_classes == 10);
    CHECK(o.flow.time.kind == TF_TIME_LOGIT_NORMAL && fabs(o.flow.time.t_min - 0.01) < 1e-12 &&
          fabs(o.flow.time.t_max - 0.99) < 1e-12);
    CHECK(o.solver == TF_SOLVER_DOPRI5 && o.solver_steps == 7 && o.guidance == 3.0);
    CHECK(o.adam.kind == TF_OPTIM_ADAMW && fabs(o.adam.weight_decay - 0.01f) < 1e-9 && o.grad_clip == 0.0);
    CHECK(o.micro_batch == 32 && o.threads == 3 && o.lr.decay == TF_LR_LINEAR && o.lr.warmup == 200);
    CHECK(o.step_timeout == 5 && o.eval_timeout == 5); /* the eval budget is never below a step's */
    CHECK(o.steps == 2200 && o.ckpt_every == 500 && o.eval_every == 500); /* configs/experiment/mnist.yaml */
    tf_cfg_destroy(c);

    const char *bad[] = {"experiment=moons", "path=cosine", "path.sigma_min=0.1"};
    c = compose(bad, 3);
    CHECK(c != NULL);
    if (c) {
        char out[2048];
        int rc = tf_child_run(read_bad, c, out, sizeof out);
        CHECK_MSG(rc == 2 && strstr(out, "path.sigma_min"), "exit %d: %s", rc, out);
        tf_cfg_destroy(c);
    }

    /* toy-data raster: a point at the origin lights the centre pixel; outside points are dropped */
    float xy[6] = {0.0f, 0.0f, 0.0f, 0.0f, 100.0f, 100.0f}, img[16 * 16];
    tf_raster_points(xy, 3, 4.0f, 16, img);
    int lit = 0;
    for (int i = 0; i < 256; i++) lit += img[i] > -1.0f;
    CHECK(lit == 1 && img[8 * 16 + 8] > 0.2f);
    return tf_test_finish("test_train_options");
}
