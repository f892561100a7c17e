/* fuzz_yaml.c - libFuzzer target: one YAML document through tf_yaml_load_string() (libyaml
 * events -> config tree, OmegaConf scalar typing, duplicate/alias/depth checks), then
 * interpolation resolution of the whole tree, and a write/read round trip: tf_yaml_dump()
 * of a tree that loaded must load again and compare equal (the composed config is saved
 * this way in .hydra/config.yaml and inside every checkpoint). Seeds: configs/ and small
 * hand-written documents (fuzz/make_corpus.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/yaml_io.h"
#include "fuzz_common.h"

static int count_leaf(const char *path, const TfCfgNode *node, void *ctx) {
    (void)path, (void)node;
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_fuzz_init();
    TfCfgNode *root = NULL;
    TfCfgError err;
    err.msg[0] = '\0';
    if (tf_yaml_load_string((const char *)data, size, "fuzz.yaml", &root, &err) != 0) {
        if (root || !err.msg[0]) abort();
        return 0;
    }
    if (!root || root->type != TF_NODE_DICT) abort();
    size_t leaves = 0;
    tf_node_walk(root, count_leaf, &leaves);
    TfCfgNode *res = NULL;
    if (tf_cfg_resolve_tree(root, &res, &err) == 0) tf_node_free(res);
    /* Round trip through the writer. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) abort();
    tf_yaml_dump(root, m);
    fclose(m);
    TfCfgNode *again = NULL;
    if (tf_yaml_load_string(text, len, "dumped.yaml", &again, &err) != 0) {
        fprintf(stderr, "tf_yaml_dump wrote YAML that does not load back: %s\n--- dumped ---\n%s\n", err.msg, text);
        abort();
    }
    if (!tf_node_equal(root, again)) {
        fprintf(stderr, "tf_yaml_dump round trip changed the tree\n--- dumped ---\n%s\n", text);
        abort();
    }
    tf_node_free(again);
    free(text);
    tf_node_free(root);
    return 0;
}
