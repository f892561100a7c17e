/* test_track_mlflow.c - the MLflow file-store writer (track/mlflow.h) and its YAML helper:
 * key and id validation tables; the tree a run writes (.trash, 0/meta.yaml Default, quoted
 * experiment id equal to its folder, uuid4 run id, RUNNING then FINISHED with end_time, the
 * standard tags, params without trailing newline, metric lines "ms value step" that
 * round-trip, nested keys, artifacts); experiments found again by name (also names with
 * quotes and spaces), deleted ones refused; params immutable (same value accepted, another
 * value exits 2 and leaves the file as it was); YAML scalars read back as PyYAML writes them.
 * Knows nothing about the other tracking sinks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tf_test.h"
#include "track/mlflow.h"
#include "track/track_test_util.h"
#include "track/util.h"
#include "track/yaml_min.h"

static char g_dir[256];

static void test_keys(void) {
    const char *good[] = {"loss", "train/loss", "a.b-c_d e", "eval/fid/50k", "x.y", "0"};
    const char *bad[] = {"", "/abs", "a/../b", "..", "a..b", "trail/", "a//b", "./a", "a/./b", "a/.", "tab\tkey",
                         "new\nline", "quote'", "semi;colon", "ümlaut"};
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK_MSG(tf_mlflow_check_key(good[i], err, sizeof err) == 0, "'%s' rejected: %s", good[i], err);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(tf_mlflow_check_key(bad[i], err, sizeof err) == -1, "'%s' accepted", bad[i]);
    char longkey[300];
    memset(longkey, 'k', sizeof longkey);
    longkey[250] = '\0';
    CHECK(tf_mlflow_check_key(longkey, err, sizeof err) == 0);
    longkey[250] = 'k', longkey[251] = '\0';
    CHECK(tf_mlflow_check_key(longkey, err, sizeof err) == -1);
    CHECK(tf_mlflow_check_id("0", 64) == 0);
    CHECK(tf_mlflow_check_id("123456789012345678", 64) == 0);
    CHECK(tf_mlflow_check_id("a_b-c", 64) == 0);
    CHECK(tf_mlflow_check_id("-a", 64) == -1);
    CHECK(tf_mlflow_check_id("a b", 64) == -1);
    CHECK(tf_mlflow_check_id("", 64) == -1);
}

static void test_yaml(void) {
    TfStrBuf b = {0};
    const char *in[] = {"Default", "it's a test", "123", "yes", "a b", "with: colon", "#x", "ok.name-1"};
    const int plain[] = {1, 0, 0, 0, 0, 0, 0, 1};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        b.len = 0;
        tf_sb_puts(&b, "k: ");
        tf_yaml_scalar(&b, in[i]);
        tf_sb_puts(&b, "\n");
        CHECK_MSG((b.s[3] != '\'') == plain[i], "'%s' written as %s", in[i], b.s);
        char out[128];
        CHECK(tf_yaml_get(b.s, "k", out, sizeof out) == 0 && strcmp(out, in[i]) == 0);
    }
    tf_sb_free(&b);
    /* Forms PyYAML writes that we never write ourselves. */
    const char *doc = "artifact_location: file:///x\nname: \"tab\\there \\xE9 \\u00e9\"\n"
                      "long_name: 'a very long name\n  that PyYAML folded'\nplain: some words # comment\n"
                      "experiment_id: '0'\nbad: 'unterminated\n";
    char v[128];
    CHECK(tf_yaml_get(doc, "name", v, sizeof v) == 0 && strcmp(v, "tab\there \xc3\xa9 \xc3\xa9") == 0);
    CHECK(tf_yaml_get(doc, "long_name", v, sizeof v) == 0 && strcmp(v, "a very long name that PyYAML folded") == 0);
    CHECK(tf_yaml_get(doc, "plain", v, sizeof v) == 0 && strcmp(v, "some words") == 0);
    CHECK(tf_yaml_get(doc, "experiment_id", v, sizeof v) == 0 && strcmp(v, "0") == 0);
    CHECK(tf_yaml_get(doc, "bad", v, sizeof v) == -1);
    CHECK(tf_yaml_get(doc, "missing", v, sizeof v) == -1);
    CHECK(tf_yaml_get(doc, "artifact", v, sizeof v) == -1); /* a prefix is not the key */
}

static char *read_at(const char *dir, const char *rel) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return tt_slurp(p, NULL);
}

static int yaml_is(const char *doc, const char *key, const char *want) {
    char v[512];
    if (!doc || !want || tf_yaml_get(doc, key, v, sizeof v) != 0) return 0;
    if (strcmp(v, want) != 0) fprintf(stderr, "  %s: '%s' != '%s'\n", key, v, want);
    return strcmp(v, want) == 0;
}

typedef struct {
    TfMlflow *m;
    const char *key, *value;
} ParamArg;

static void relog_param(void *arg) {
    ParamArg *a = arg;
    tf_mlflow_log_param(a->m, a->key, a->value);
}

static void bad_metric_key(void *arg) { tf_mlflow_log_metric(arg, "../escape", 1.0, 0, 0); }
static void abs_artifact(void *arg) { tf_mlflow_log_artifact_bytes(arg, "/etc/x", "x", 1); }

static void test_run(void) {
    char root[512];
    snprintf(root, sizeof root, "%s/mlruns", g_dir);
    TfMlflowOptions o = {root, "tinyflow exp's", "run-1", "alice", "/usr/bin/tinyflow", "abc123"};
    int64_t t0 = tf_track_now_ms();
    TfMlflow *m = tf_mlflow_open(&o);
    const char *rd = tf_mlflow_run_dir(m);
    const char *eid = tf_mlflow_experiment_id(m), *rid = tf_mlflow_run_id(m);
    CHECK(tf_mlflow_check_id(eid, 64) == 0 && strcmp(eid, "0") != 0);
    CHECK(strlen(rid) == 32 && rid[12] == '4' && strchr("89ab", rid[16]));
    char p[1024];
    snprintf(p, sizeof p, "%s/.trash", root);
    CHECK(tf_track_is_dir(p));
    char *def = read_at(root, "0/meta.yaml");
    CHECK(def && strstr(def, "experiment_id: '0'\n") && yaml_is(def, "name", "Default"));
    free(def);
    char rel[256];
    snprintf(rel, sizeof rel, "%s/meta.yaml", eid);
    char *em = read_at(root, rel);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "experiment_id: '%s'\n", eid);
    CHECK(em && strstr(em, quoted) && yaml_is(em, "name", "tinyflow exp's") && yaml_is(em, "lifecycle_stage", "active"));
    CHECK(em && strstr(em, "artifact_location: file:///"));
    free(em);
    char *rm = read_at(rd, "meta.yaml");
    CHECK(rm && yaml_is(rm, "run_id", rid) && yaml_is(rm, "run_uuid", rid) && yaml_is(rm, "experiment_id", eid));
    CHECK(rm && yaml_is(rm, "status", "1") && yaml_is(rm, "end_time", "null") && yaml_is(rm, "user_id", "alice"));
    CHECK(rm && yaml_is(rm, "run_name", "run-1") && yaml_is(rm, "tags", "[]") && yaml_is(rm, "source_type", "4"));
    char st[64];
    CHECK(rm && tf_yaml_get(rm, "start_time", st, sizeof st) == 0 && atoll(st) >= t0 && atoll(st) <= tf_track_now_ms());
    free(rm);
    const char *tags[][2] = {{"mlflow.runName", "run-1"}, {"mlflow.user", "alice"},
                             {"mlflow.source.name", "/usr/bin/tinyflow"}, {"mlflow.source.type", "LOCAL"},
                             {"mlflow.source.git.commit", "abc123"}};
    for (int i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "tags/%s", tags[i][0]);
        char *v = read_at(rd, rel);
        CHECK_MSG(v && strcmp(v, tags[i][1]) == 0, "tag %s = '%s'", tags[i][0], v ? v : "(missing)");
        free(v);
    }

    tf_mlflow_log_param(m, "lr", "0.001");
    tf_mlflow_log_param(m, "model/channels", "64");
    tf_mlflow_log_param(m, "lr", "0.001"); /* same value: fine */
    char *pv = read_at(rd, "params/lr");
    CHECK(pv && strcmp(pv, "0.001") == 0); /* no trailing newline */
    free(pv);
    pv = read_at(rd, "params/model/channels");
    CHECK(pv && strcmp(pv, "64") == 0);
    free(pv);
    ParamArg pa = {m, "lr", "0.002"};
    CHECK(tt_dies(relog_param, &pa, 2, "immutable"));
    pv = read_at(rd, "params/lr");
    CHECK(pv && strcmp(pv, "0.001") == 0);
    free(pv);
    CHECK(tt_count_entries(rd, ".tmp.") == 0);
    snprintf(p, sizeof p, "%s/params", rd);
    CHECK(tt_count_entries(p, ".tmp.") == 0);
    CHECK(tt_dies(bad_metric_key, m, 2, "../escape"));
    CHECK(tt_dies(abs_artifact, m, 2, "/etc/x"));

    double vals[4] = {0.1, 1.0 / 3.0, NAN, -INFINITY};
    for (int i = 0; i < 4; i++) tf_mlflow_log_metric(m, "train/loss", vals[i], 10 * i, 1700000000000LL + i);
    char *ml = read_at(rd, "metrics/train/loss");
    CHECK(ml != NULL);
    int lines = 0;
    for (char *line = ml; line && *line; lines++) {
        long long ts, stp;
        char val[64];
        int k = sscanf(line, "%lld %63s %lld", &ts, val, &stp);
        CHECK(k == 3 && ts == 1700000000000LL + lines && stp == 10 * lines);
        double got = strtod(val, NULL);
        if (isnan(vals[lines])) CHECK(isnan(got));
        else CHECK(got == vals[lines]); /* %.17g round-trips */
        line = strchr(line, '\n');
        if (line) line++;
    }
    CHECK(lines == 4);
    free(ml);

    tf_mlflow_set_tag(m, "note", "first");
    tf_mlflow_set_tag(m, "note", "second"); /* tags may change */
    char *tv = read_at(rd, "tags/note");
    CHECK(tv && strcmp(tv, "second") == 0);
    free(tv);
    snprintf(p, sizeof p, "%s/cfg.yaml", g_dir);
    CHECK(tt_write(p, "a: 1\n", 5) == 0);
    tf_mlflow_log_artifact(m, p, NULL);
    tf_mlflow_log_artifact(m, p, "configs/copy.yaml");
    char *av = read_at(rd, "artifacts/cfg.yaml"), *av2 = read_at(rd, "artifacts/configs/copy.yaml");
    CHECK(av && av2 && strcmp(av, "a: 1\n") == 0 && strcmp(av2, "a: 1\n") == 0);
    free(av);
    free(av2);

    char rd_copy[4096], eid_copy[80];
    snprintf(rd_copy, sizeof rd_copy, "%s", rd);
    snprintf(eid_copy, sizeof eid_copy, "%s", eid);
    tf_mlflow_close(m, TF_RUN_FAILED);
    rm = read_at(rd_copy, "meta.yaml");
    char et[64];
    CHECK(rm && yaml_is(rm, "status", "4") && tf_yaml_get(rm, "end_time", et, sizeof et) == 0 &&
          atoll(et) >= t0 && atoll(st) <= atoll(et));
    free(rm);

    /* The same experiment name again: found, same id, a second run next to the first. */
    TfMlflowOptions o2 = {root, "tinyflow exp's", "run-2", NULL, NULL, NULL};
    TfMlflow *m2 = tf_mlflow_open(&o2);
    CHECK(strcmp(tf_mlflow_experiment_id(m2), eid_copy) == 0);
    snprintf(p, sizeof p, "%s/%s", root, eid_copy);
    CHECK(tt_count_entries(p, NULL) == 3); /* meta.yaml + 2 runs */
    tf_mlflow_close(m2, TF_RUN_FINISHED);
    /* "Default" maps to experiment 0. */
    TfMlflowOptions o3 = {root, NULL, "run-3", NULL, NULL, NULL};
    TfMlflow *m3 = tf_mlflow_open(&o3);
    CHECK(strcmp(tf_mlflow_experiment_id(m3), "0") == 0);
    tf_mlflow_close(m3, TF_RUN_KILLED);
    CHECK(tt_count_entries(root, NULL) == 4); /* .trash, 0, the experiment, .tinyflow.lock */
}

static void open_deleted(void *root) {
    TfMlflowOptions o = {root, "gone", "r", NULL, NULL, NULL};
    tf_mlflow_open(&o);
}

static void test_deleted(void) {
    char root[512], p[600];
    snprintf(root, sizeof root, "%s/mlruns_del", g_dir);
    snprintf(p, sizeof p, "%s/.trash/42", root);
    tf_track_mkdirs(p);
    snprintf(p, sizeof p, "%s/.trash/42/meta.yaml", root);
    const char *meta = "artifact_location: file:///x/42\ncreation_time: 1\nexperiment_id: '42'\n"
                       "last_update_time: 1\nlifecycle_stage: deleted\nname: gone\n";
    CHECK(tt_write(p, meta, strlen(meta)) == 0);
    CHECK(tt_dies(open_deleted, root, 2, "deleted"));
}

int main(void) {
    tt_tempdir(g_dir, sizeof g_dir, "mlflow");
    test_keys();
    test_yaml();
    test_run();
    test_deleted();
    tt_rmtree(g_dir);
    return tf_test_finish("test_track_mlflow");
}
