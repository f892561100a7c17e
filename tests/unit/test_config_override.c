/* test_config_override.c - Hydra's override grammar: every prefix, every value type,
 * escapes and quotes, interpolations kept verbatim, malformed input rejected with a message,
 * sweeps (a,b / choice / range) and their expansion order; plus the YAML scalar typing and
 * a dump -> load round trip of a tree with awkward strings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/override.h"
#include "config/yaml_io.h"
#include "tf_test.h"

static TfOverride parse_ok(const char *text) {
    TfOverride ov;
    TfCfgError e;
    int rc = tf_override_parse(text, 0, &ov, &e);
    CHECK_MSG(rc == 0, "'%s' rejected: %s", text, e.msg);
    if (rc) memset(&ov, 0, sizeof ov);
    return ov;
}

static void expect_fail(const char *text, int allow_sweep, const char *want) {
    TfOverride ov;
    TfCfgError e = {{0}, {0}};
    int rc = tf_override_parse(text, allow_sweep, &ov, &e);
    CHECK_MSG(rc == -1, "'%s' accepted", text);
    if (!rc) { tf_override_free(&ov); return; }
    CHECK_MSG(strstr(e.msg, want) != NULL, "'%s': expected '%s' in: %s", text, want, e.msg);
}

static void test_forms(void) {
    TfOverride o = parse_ok("optim.lr=1e-3");
    CHECK(o.kind == TF_OV_CHANGE && !strcmp(o.key, "optim.lr") && o.value->type == TF_NODE_FLOAT && o.value->f == 1e-3);
    tf_override_free(&o);
    o = parse_ok("+trainer.note=hello world ");
    CHECK(o.kind == TF_OV_ADD && o.value->type == TF_NODE_STR && !strcmp(o.value->s, "hello world"));
    tf_override_free(&o);
    o = parse_ok("++a.b=-20");
    CHECK(o.kind == TF_OV_FORCE_ADD && o.value->type == TF_NODE_INT && o.value->i == -20);
    tf_override_free(&o);
    o = parse_ok("~model.dropout");
    CHECK(o.kind == TF_OV_DELETE && o.value == NULL && !strcmp(o.key, "model.dropout"));
    tf_override_free(&o);
    o = parse_ok("~model.dropout=0.1");
    CHECK(o.kind == TF_OV_DELETE && o.value && o.value->f == 0.1);
    tf_override_free(&o);
    o = parse_ok("model=mlp");
    CHECK(o.kind == TF_OV_CHANGE && o.value->type == TF_NODE_STR && !strcmp(o.value->s, "mlp"));
    tf_override_free(&o);
    o = parse_ok("key=");
    CHECK(o.value->type == TF_NODE_STR && o.value->s[0] == '\0');
    tf_override_free(&o);
}

static void test_values(void) {
    struct { const char *text; TfCfgNodeType type; double num; const char *str; } cases[] = {
        {"a=null", TF_NODE_NULL, 0, NULL},       {"a=NULL", TF_NODE_NULL, 0, NULL},
        {"a=true", TF_NODE_BOOL, 1, NULL},       {"a=False", TF_NODE_BOOL, 0, NULL},
        {"a=10", TF_NODE_INT, 10, NULL},         {"a=1_000", TF_NODE_INT, 1000, NULL},
        {"a=+7", TF_NODE_INT, 7, NULL},          {"a=3.14", TF_NODE_FLOAT, 3.14, NULL},
        {"a=1e-3", TF_NODE_FLOAT, 1e-3, NULL},   {"a=-.5", TF_NODE_FLOAT, -0.5, NULL},
        {"a=inf", TF_NODE_FLOAT, INFINITY, NULL},{"a=-inf", TF_NODE_FLOAT, -INFINITY, NULL},
        {"a='10'", TF_NODE_STR, 0, "10"},        {"a=\"true\"", TF_NODE_STR, 0, "true"},
        {"a='it\\'s'", TF_NODE_STR, 0, "it's"},  {"a=yes", TF_NODE_STR, 0, "yes"},
        {"a=path/to:x", TF_NODE_STR, 0, "path/to:x"}, {"a=a\\,b", TF_NODE_STR, 0, "a,b"},
        {"a=${model.base_ch}", TF_NODE_STR, 0, "${model.base_ch}"},
        {"a=${oc.env:HOME,/tmp}/x", TF_NODE_STR, 0, "${oc.env:HOME,/tmp}/x"},
        {"a=???", TF_NODE_MISSING, 0, NULL},     {"a=1.0.0", TF_NODE_STR, 0, "1.0.0"},
        {"a=0x10", TF_NODE_STR, 0, "0x10"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        TfOverride o = parse_ok(cases[k].text);
        if (!o.value) continue;
        CHECK_MSG(o.value->type == cases[k].type, "'%s' typed %s", cases[k].text, tf_node_type_name(o.value->type));
        if (cases[k].type == TF_NODE_INT) CHECK_MSG(o.value->i == (int64_t)cases[k].num, "'%s'", cases[k].text);
        if (cases[k].type == TF_NODE_FLOAT) CHECK_MSG(o.value->f == cases[k].num, "'%s' = %g", cases[k].text, o.value->f);
        if (cases[k].type == TF_NODE_BOOL) CHECK_MSG(o.value->b == (int)cases[k].num, "'%s'", cases[k].text);
        if (cases[k].str) CHECK_MSG(!strcmp(o.value->s, cases[k].str), "'%s' -> '%s'", cases[k].text, o.value->s);
        tf_override_free(&o);
    }
    TfOverride o = parse_ok("a=nan");
    CHECK(o.value && o.value->type == TF_NODE_FLOAT && isnan(o.value->f));
    tf_override_free(&o);
    /* Lists are assigned, dicts nest; whitespace around elements is trimmed. */
    o = parse_ok("model.ch_mult=[1, 2,[a, 'b c'], {}]");
    CHECK(o.value && o.value->type == TF_NODE_LIST && o.value->n == 4);
    if (o.value && o.value->n == 4) {
        CHECK(o.value->items[1]->i == 2 && o.value->items[2]->type == TF_NODE_LIST);
        CHECK(!strcmp(o.value->items[2]->items[1]->s, "b c") && o.value->items[3]->type == TF_NODE_DICT);
    }
    tf_override_free(&o);
    o = parse_ok("x={a: 1, b: {c: [2, 3]}, d: null}");
    CHECK(o.value && o.value->type == TF_NODE_DICT && o.value->n == 3);
    if (o.value) {
        CHECK(tf_node_find(o.value, "b.c.1") && tf_node_find(o.value, "b.c.1")->i == 3);
        CHECK(tf_node_dict_get(o.value, "d")->type == TF_NODE_NULL);
    }
    tf_override_free(&o);
}

static void test_errors(void) {
    expect_fail("optim.lr", 0, "missing '=value'");
    expect_fail("+optim.lr", 0, "missing '=value'");
    expect_fail("=3", 0, "missing or malformed key");
    expect_fail("a..b=3", 0, "empty key component");
    expect_fail("a b=3", 0, "invalid character ' '");
    expect_fail("model@pkg=x", 0, "'@'");
    expect_fail("a=[1,2", 0, "expected ',' or ']'");
    expect_fail("a={x 1}", 0, "expected 'key:'");
    expect_fail("a='open", 0, "unterminated quoted string");
    expect_fail("a=${x.y", 0, "unterminated ${...}");
    expect_fail("a=b=c", 0, "unexpected '='");
    expect_fail("a=1,2", 0, "ambiguous value");
    expect_fail("a=choice(1,2)", 0, "not a multirun");
    expect_fail("a=glob(*)", 1, "is not supported");
    expect_fail("a=range(1,2,0)", 1, "step is 0");
    expect_fail("a=range(5,1)", 1, "empty");
}

static void test_sweeps(void) {
    TfOverride o;
    TfCfgError e;
    CHECK(tf_override_parse("optim.lr=1e-3, 3e-4", 1, &o, &e) == 0);
    CHECK(o.n_choices == 2 && !strcmp(o.choices[0], "1e-3") && !strcmp(o.choices[1], "3e-4"));
    tf_override_free(&o);
    CHECK(tf_override_parse("a=[1,2],[3]", 1, &o, &e) == 0 && o.n_choices == 2 && !strcmp(o.choices[1], "[3]"));
    tf_override_free(&o);
    CHECK(tf_override_parse("a=[1,2]", 1, &o, &e) == 0 && o.n_choices == 0 && o.value->type == TF_NODE_LIST);
    tf_override_free(&o);
    CHECK(tf_override_parse("a=range(0,10,3)", 1, &o, &e) == 0 && o.n_choices == 4 && !strcmp(o.choices[3], "9"));
    tf_override_free(&o);
    CHECK(tf_override_parse("a=range(0,0.3,0.1)", 1, &o, &e) == 0 && o.n_choices == 3 && !strcmp(o.choices[1], "0.1"));
    tf_override_free(&o);
    CHECK(tf_override_parse("a=choice('x,y', z)", 1, &o, &e) == 0 && o.n_choices == 2 && !strcmp(o.choices[0], "'x,y'"));
    tf_override_free(&o);
    /* Expansion: product order, first sweep outermost, the rest copied as typed. */
    const char *ovs[] = {"model=mlp,unet", "trainer.seed=1", "optim.lr=1,2,3"};
    TfSweep sw;
    CHECK(tf_sweep_expand(ovs, 3, &sw, &e) == 0);
    CHECK(sw.n_jobs == 6 && sw.n_overrides == 3);
    if (sw.n_jobs == 6) {
        CHECK(!strcmp(sw.jobs[0][0], "model=mlp") && !strcmp(sw.jobs[0][2], "optim.lr=1"));
        CHECK(!strcmp(sw.jobs[1][2], "optim.lr=2") && !strcmp(sw.jobs[2][2], "optim.lr=3"));
        CHECK(!strcmp(sw.jobs[3][0], "model=unet") && !strcmp(sw.jobs[3][2], "optim.lr=1"));
        CHECK(!strcmp(sw.jobs[5][1], "trainer.seed=1"));
    }
    tf_sweep_free(&sw);
    const char *plus[] = {"+x.y=a,b"};
    CHECK(tf_sweep_expand(plus, 1, &sw, &e) == 0 && sw.n_jobs == 2 && !strcmp(sw.jobs[1][0], "+x.y=b"));
    tf_sweep_free(&sw);
    const char *bad[] = {"a=[1,"};
    CHECK(tf_sweep_expand(bad, 1, &sw, &e) == -1 && sw.n_jobs == 0);
}

static void test_yaml(void) {
    const char *text =
        "a: yes\nb: Off\nc: ~\nd:\ne: 1e-3\nf: .inf\ng: 0x1F\nh: '1.5'\ni: 1_000\nj: !!str 12\nk: ???\n"
        "l: [1, two, 3.0]\nm: {x: 1}\nn: hello world\n";
    TfCfgNode *n = NULL;
    TfCfgError e;
    CHECK(tf_yaml_load_string(text, strlen(text), "t.yaml", &n, &e) == 0);
    if (!n) return;
    CHECK(tf_node_dict_get(n, "a")->type == TF_NODE_BOOL && tf_node_dict_get(n, "a")->b == 1);
    CHECK(tf_node_dict_get(n, "b")->type == TF_NODE_BOOL && tf_node_dict_get(n, "b")->b == 0);
    CHECK(tf_node_dict_get(n, "c")->type == TF_NODE_NULL && tf_node_dict_get(n, "d")->type == TF_NODE_NULL);
    CHECK(tf_node_dict_get(n, "e")->type == TF_NODE_FLOAT && tf_node_dict_get(n, "e")->f == 1e-3);
    CHECK(tf_node_dict_get(n, "f")->type == TF_NODE_FLOAT && isinf(tf_node_dict_get(n, "f")->f));
    CHECK(tf_node_dict_get(n, "g")->type == TF_NODE_INT && tf_node_dict_get(n, "g")->i == 31);
    CHECK(tf_node_dict_get(n, "h")->type == TF_NODE_STR && tf_node_dict_get(n, "i")->i == 1000);
    CHECK(tf_node_dict_get(n, "j")->type == TF_NODE_STR && tf_node_dict_get(n, "k")->type == TF_NODE_MISSING);
    /* Awkward strings survive a dump and a reload. */
    tf_node_dict_set(n, "s1", tf_node_str("true"));
    tf_node_dict_set(n, "s2", tf_node_str("a: b"));
    tf_node_dict_set(n, "s3", tf_node_str("- dash"));
    tf_node_dict_set(n, "s4", tf_node_str(""));
    tf_node_dict_set(n, "s5", tf_node_str("it's #1"));
    tf_node_dict_set(n, "s6", tf_node_str("${oc.env:X,a}"));
    tf_node_dict_set(n, "s7", tf_node_str("line\nbreak"));
    tf_node_dict_set(n, "s8", tf_node_str("3e5"));
    tf_node_dict_set(n, "f2", tf_node_float(3.0));
    tf_node_dict_set(n, "f3", tf_node_float(2e-7));
    TfCfgNode *lst = tf_node_new(TF_NODE_LIST);
    tf_node_list_append(lst, tf_node_str("x,y"));
    TfCfgNode *inner = tf_node_new(TF_NODE_DICT);
    tf_node_dict_set(inner, "q", tf_node_int(1));
    tf_node_list_append(lst, inner);
    tf_node_dict_set(n, "l2", lst);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    tf_yaml_dump(n, m);
    fclose(m);
    TfCfgNode *back = NULL;
    CHECK_MSG(tf_yaml_load_string(buf, len, "dump", &back, &e) == 0, "%s\n%s", e.msg, buf);
    CHECK_MSG(back && tf_node_equal(n, back), "round trip changed the tree:\n%s", buf);
    free(buf);
    tf_node_free(back);
    tf_node_free(n);
    /* YAML errors name the file and line. */
    const char *dup = "a: 1\nb: 2\na: 3\n", *bad = "a: [1, 2\n", *alias = "a: &x 1\nb: *x\n";
    CHECK(tf_yaml_load_string(dup, strlen(dup), "dup.yaml", &n, &e) == -1 && strstr(e.msg, "dup.yaml:3: duplicate key 'a'"));
    CHECK(tf_yaml_load_string(bad, strlen(bad), "bad.yaml", &n, &e) == -1 && strstr(e.msg, "bad.yaml:"));
    CHECK(tf_yaml_load_string(alias, strlen(alias), "al.yaml", &n, &e) == -1 && strstr(e.msg, "aliases"));
}

int main(void) {
    test_forms();
    test_values();
    test_errors();
    test_sweeps();
    test_yaml();
    return tf_test_finish("test_config_override");
}
