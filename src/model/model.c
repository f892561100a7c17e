/* model.c - named configurations, validation with messages that name the
 * config key, and the build entry point that dispatches to an architecture.
 * Must not know about YAML, files or MPI. */
#include "model/model.h"

#include <string.h>

#include "core/check.h"

const char *tf_model_kind_name(TfModelKind k) {
    switch (k) {
    case TF_MODEL_UNET: return "unet";
    case TF_MODEL_MLP: return "mlp";
    case TF_MODEL_CLASSIFIER: return "classifier";
    }
    return "?";
}

TfModelConfig tf_model_config_named(const char *name) {
    TfModelConfig c;
    memset(&c, 0, sizeof c);
    c.heads = 1;
    if (!strcmp(name, "mnist") || !strcmp(name, "cifar")) {
        int cifar = name[0] == 'c';
        c.kind = TF_MODEL_UNET;
        c.in_ch = cifar ? 3 : 1;
        c.image_size = cifar ? 32 : 28;
        c.base_ch = cifar ? 64 : 32;
        c.n_mult = cifar ? 4 : 3;
        int m[4] = {1, 2, 2, 2};
        memcpy(c.ch_mult, m, sizeof m);
        c.num_res_blocks = 2;
        c.attn_res[0] = cifar ? 16 : 7;
        c.n_attn = 1;
        c.groups = cifar ? 16 : 8;
        c.num_classes = 10;
    } else if (!strcmp(name, "mlp2d")) {
        c.kind = TF_MODEL_MLP;
        c.in_ch = 2;
        c.image_size = 1;
        c.hidden = 128;
        c.layers = 3;
        c.temb_dim = 32;
    } else if (!strcmp(name, "classifier_mnist") || !strcmp(name, "classifier_cifar")) {
        int cifar = strstr(name, "cifar") != NULL;
        c.kind = TF_MODEL_CLASSIFIER;
        c.in_ch = cifar ? 3 : 1;
        c.image_size = cifar ? 32 : 28;
        c.width = cifar ? 64 : 32;
        c.groups = 8;
        c.feat_dim = cifar ? 256 : 128;
        c.num_classes = 10;
        c.dropout = cifar ? 0.3f : 0.1f;
    } else {
        tf_die_usage("valid names: mnist, cifar, mlp2d, classifier_mnist, classifier_cifar",
                     "unknown model configuration '%s'", name);
    }
    return c;
}

int tf_model_sample_dim(const TfModelConfig *c) { return c->in_ch * c->image_size * c->image_size; }

#define BAD(key, hint, ...) tf_die_usage(hint, "model." key ": " __VA_ARGS__)

void tf_model_config_validate(const TfModelConfig *c) {
    if (c->in_ch <= 0) BAD("in_ch", "use 1 (grey), 3 (RGB) or the data dimension", "must be positive, got %d", c->in_ch);
    if (c->image_size <= 0) BAD("image_size", "use the dataset's image size (1 for vectors)", "must be positive, got %d", c->image_size);
    if (c->num_classes < 0) BAD("num_classes", "use 0 for an unconditional model", "must be >= 0, got %d", c->num_classes);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) BAD("dropout", "use a probability in [0, 1)", "must be in [0, 1), got %g", c->dropout);
    switch (c->kind) {
    case TF_MODEL_UNET: {
        if (c->base_ch <= 0) BAD("base_ch", "e.g. 32 for MNIST, 64 for CIFAR-10", "must be positive, got %d", c->base_ch);
        if (c->n_mult <= 0 || c->n_mult > TF_MAX_LEVELS) BAD("ch_mult", "give 1 to 8 multipliers, e.g. [1, 2, 2]", "has %d entries", c->n_mult);
        if (c->num_res_blocks <= 0) BAD("num_res_blocks", "use 1 or more", "must be positive, got %d", c->num_res_blocks);
        if (c->groups <= 0) BAD("groups", "e.g. 8", "must be positive, got %d", c->groups);
        if (c->heads <= 0) BAD("heads", "e.g. 1 or 4", "must be positive, got %d", c->heads);
        int res = c->image_size;
        for (int i = 0; i < c->n_mult; i++) {
            if (c->ch_mult[i] <= 0) BAD("ch_mult", "multipliers must be positive", "entry %d is %d", i, c->ch_mult[i]);
            int ch = c->base_ch * c->ch_mult[i];
            if (ch % c->groups || c->base_ch % c->groups)
                BAD("groups", "choose groups dividing base_ch * every ch_mult", "%d does not divide %d channels (level %d)", c->groups, ch, i);
            if (i < c->n_mult - 1) {
                if (res < 2) BAD("ch_mult", "use fewer levels for this image size", "level %d would downsample a %dx%d map", i, res, res);
                res = (res - 1) / 2 + 1;
            }
        }
        for (int i = 0; i < c->n_attn; i++) {
            int ok = 0, r = c->image_size;
            for (int l = 0; l < c->n_mult; l++) { ok |= r == c->attn_res[i]; r = (r - 1) / 2 + 1; }
            if (!ok) BAD("attn_res", "list resolutions the UNet visits (image_size halved per level)",
                         "%d is not a resolution of this UNet", c->attn_res[i]);
        }
        break;
    }
    case TF_MODEL_MLP:
        if (c->hidden <= 0) BAD("hidden", "e.g. 128", "must be positive, got %d", c->hidden);
        if (c->layers <= 0) BAD("layers", "e.g. 3", "must be positive, got %d", c->layers);
        if (c->temb_dim <= 0 || c->temb_dim % 2) BAD("temb_dim", "use an even number, e.g. 32", "must be positive and even, got %d", c->temb_dim);
        break;
    case TF_MODEL_CLASSIFIER:
        if (c->width <= 0) BAD("width", "e.g. 32", "must be positive, got %d", c->width);
        if (c->feat_dim <= 0) BAD("feat_dim", "e.g. 128", "must be positive, got %d", c->feat_dim);
        if (c->num_classes <= 1) BAD("num_classes", "a classifier needs at least 2 classes", "got %d", c->num_classes);
        if (c->groups <= 0 || c->width % c->groups) BAD("groups", "choose groups dividing width", "%d does not divide %d", c->groups, c->width);
        if (c->image_size < 4) BAD("image_size", "the classifier pools twice by 2", "must be >= 4, got %d", c->image_size);
        break;
    default: tf_die_usage("model.name must be unet, mlp or classifier", "unknown model kind %d", (int)c->kind);
    }
}

void tf_model_build(TfTape *tp, const TfModelConfig *c, const TfBackend *be, int batch, int flags,
                    uint64_t seed, const TfTape *share) {
    tf_model_config_validate(c);
    tf_tape_init(tp, be, batch);
    tp->inference = (flags & TF_BUILD_INFERENCE) != 0;
    tp->input_needs_grad = !tp->inference && (flags & TF_BUILD_INPUT_GRAD);
    switch (c->kind) {
    case TF_MODEL_UNET: tf_unet_build(tp, c); break;
    case TF_MODEL_MLP: tf_mlp_build(tp, c); break;
    case TF_MODEL_CLASSIFIER: tf_classifier_build(tp, c); break;
    }
    tf_tape_finish(tp, seed, share);
}

double tf_model_macs(const TfTape *tp) {
    double macs = 0.0;
    for (int i = 0; i < tp->n_nodes; i++) {
        const TfNode *n = &tp->nodes[i];
        const TfTensorInfo *y = &tp->t[n->out];
        if (n->kind == TF_NODE_CONV)
            macs += (double)n->conv.Co * n->conv.Ho * n->conv.Wo * n->conv.Ci * n->conv.K * n->conv.K;
        else if (n->kind == TF_NODE_LINEAR)
            macs += (double)(y->numel / tp->batch) * (double)(tp->t[n->in[0]].numel / tp->batch);
        else if (n->kind == TF_NODE_ATTENTION) {
            double N = (double)y->shape[2] * y->shape[3], C = y->shape[1];
            macs += 2.0 * N * N * C; /* QK^T and PV */
        }
    }
    return macs;
}
