/* mlflow.c - the MLflow file-store writer of mlflow.h: experiment lookup/creation under an
 * advisory lock, run creation, params/metrics/tags/artifacts, and the final status rewrite.
 * This file must not know about models, MPI, training or the other tracking sinks. */
#define _XOPEN_SOURCE 700 /* realpath() */
#include "track/mlflow.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "track/util.h"
#include "track/yaml_min.h"

#define PATH_CAP 4096

struct TfMlflow {
    char root[PATH_CAP];    /* absolute */
    char exp_id[80];
    char run_id[40];
    char run_dir[PATH_CAP];
    char run_name[TF_MLFLOW_MAX_NAME + 1];
    char user[256];
    char source_name[1024];
    int64_t start_ms;
};

const char *tf_mlflow_run_id(const TfMlflow *m) { return m->run_id; }
const char *tf_mlflow_experiment_id(const TfMlflow *m) { return m->exp_id; }
const char *tf_mlflow_run_dir(const TfMlflow *m) { return m->run_dir; }

/* --- validation ------------------------------------------------------------------------------ */

int tf_mlflow_check_key(const char *key, char *err, size_t errcap) {
    size_t n = strlen(key);
    if (n == 0) return snprintf(err, errcap, "key is empty"), -1;
    if (n > TF_MLFLOW_MAX_KEY)
        return snprintf(err, errcap, "key '%.60s...' is %zu chars (limit %d)", key, n, TF_MLFLOW_MAX_KEY), -1;
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_/.- ", *p))
            return snprintf(err, errcap, "key '%s' has the character '%c' (allowed: letters, digits, _ - . space /)",
                            key, isprint((unsigned char)*p) ? *p : '?'), -1;
    if (key[0] == '/' || key[n - 1] == '/' || strstr(key, "//"))
        return snprintf(err, errcap, "key '%s' is not a normalised relative path (leading, trailing or double '/')",
                        key), -1;
    if (strstr(key, ".."))
        return snprintf(err, errcap, "key '%s' contains '..'", key), -1;
    /* "." as a whole component: normpath would drop it. */
    for (const char *c = key; c; c = strchr(c, '/')) {
        if (*c == '/') c++;
        if (c[0] == '.' && (c[1] == '/' || c[1] == '\0'))
            return snprintf(err, errcap, "key '%s' has a '.' path component", key), -1;
    }
    return 0;
}

int tf_mlflow_check_id(const char *id, int maxlen) {
    size_t n = strlen(id);
    if (n == 0 || n > (size_t)maxlen || !isalnum((unsigned char)id[0])) return -1;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return -1;
    return 0;
}

static void need_key(const char *what, const char *key) {
    char err[512];
    if (tf_mlflow_check_key(key, err, sizeof err) != 0)
        tf_die_usage("MLflow keys match ^[/\\w.\\- ]*$, at most 250 chars, relative, without '..'",
                     "invalid MLflow %s key: %s", what, err);
}

static void need_text(const char *what, const char *s, size_t cap) {
    size_t n = strlen(s);
    if (n > cap)
        tf_die_usage("shorten the value", "MLflow %s is %zu chars (limit %zu): '%.60s...'", what, n, cap, s);
}

/* --- small pieces ---------------------------------------------------------------------------- */

/* "file://" + percent-encoded absolute path (as pathlib.Path.as_uri() writes it). */
static void file_uri(TfStrBuf *b, const char *abs) {
    tf_sb_puts(b, "file://");
    for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
        if (isalnum(*p) || strchr("/-._~", *p)) tf_sb_append(b, (const char *)p, 1);
        else tf_sb_printf(b, "%%%02X", *p);
    }
}

static void random_hex(char *out, size_t nbytes, int uuid4) {
    unsigned char r[32];
    TF_ASSERT(nbytes <= sizeof r);
    tf_track_random_bytes(r, nbytes);
    if (uuid4) {
        r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
        r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    }
    for (size_t i = 0; i < nbytes; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void write_experiment_meta(const char *root, const char *id, const char *name) {
    char dir[PATH_CAP], path[PATH_CAP];
    tf_track_path(dir, sizeof dir, "%s/%s", root, id);
    tf_track_path(path, sizeof path, "%s/meta.yaml", dir);
    int64_t now = tf_track_now_ms();
    TfStrBuf b = {0};
    tf_sb_puts(&b, "artifact_location: ");
    file_uri(&b, dir);
    tf_sb_printf(&b, "\ncreation_time: %lld\nexperiment_id: ", (long long)now);
    tf_yaml_quoted(&b, id);
    tf_sb_printf(&b, "\nlast_update_time: %lld\nlifecycle_stage: active\nname: ", (long long)now);
    tf_yaml_scalar(&b, name);
    tf_sb_puts(&b, "\n");
    tf_track_write_atomic(path, b.s, b.len);
    tf_sb_free(&b);
}

/* Scan dir's experiment folders for one named name: its id into id_out. *deleted is set when
 * the match is marked deleted. Folders whose meta.yaml id differs from their name are skipped,
 * as MLflow skips them. Returns 1 when found. */
static int find_experiment(const char *dir, const char *name, char id_out[80], int *deleted) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        tf_die_hint("check the MLflow root's permissions", "cannot list '%s': %s", dir, strerror(errno));
    }
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_CAP], err[512], v[1024], id[80], stage[64];
        tf_track_path(path, sizeof path, "%s/%s/meta.yaml", dir, e->d_name);
        size_t len = 0;
        char *doc = tf_track_exists(path) ? tf_track_read_file(path, 1 << 20, &len, err, sizeof err) : NULL;
        if (!doc) continue;
        if (tf_yaml_get(doc, "name", v, sizeof v) == 0 && strcmp(v, name) == 0 &&
            tf_yaml_get(doc, "experiment_id", id, sizeof id) == 0 && strcmp(id, e->d_name) == 0) {
            found = 1;
            memcpy(id_out, id, sizeof id);
            *deleted = tf_yaml_get(doc, "lifecycle_stage", stage, sizeof stage) == 0 &&
                       strcmp(stage, "deleted") == 0;
        }
        free(doc);
    }
    closedir(d);
    return found;
}

/* Find or create the experiment; its id into m->exp_id. Runs under an fcntl lock on
 * <root>/.tinyflow.lock so two trainers sharing a root do not create the name twice. */
static void open_experiment(TfMlflow *m, const char *name) {
    char path[PATH_CAP], trash[PATH_CAP];
    tf_track_path(path, sizeof path, "%s/.tinyflow.lock", m->root);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644); /* never through a symlink */
    if (fd < 0)
        tf_die_hint("check the MLflow root's permissions (a symlink at the lock's name is refused)",
                    "cannot open '%s': %s", path, strerror(errno));
    struct flock lk;
    memset(&lk, 0, sizeof lk);
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    while (fcntl(fd, F_SETLKW, &lk) != 0)
        if (errno != EINTR) tf_die_hint("check the file system supports locks", "cannot lock '%s': %s", path,
                                        strerror(errno));

    tf_track_path(trash, sizeof trash, "%s/.trash", m->root);
    tf_track_mkdirs(trash);
    tf_track_path(path, sizeof path, "%s/0/meta.yaml", m->root);
    if (!tf_track_exists(path)) {
        tf_track_path(path, sizeof path, "%s/0", m->root);
        tf_track_mkdirs(path);
        write_experiment_meta(m->root, "0", "Default");
    }
    int deleted = 0;
    if (find_experiment(m->root, name, m->exp_id, &deleted)) {
        if (deleted)
            tf_die_usage("restore it (mlflow experiments restore) or choose another experiment name",
                         "MLflow experiment '%s' (id %s) is marked deleted", name, m->exp_id);
    } else if (find_experiment(trash, name, m->exp_id, &deleted)) {
        tf_die_usage("restore it (mlflow experiments restore), purge it (mlflow gc) or choose another name",
                     "MLflow experiment '%s' (id %s) is in %s (deleted)", name, m->exp_id, trash);
    } else {
        for (int attempt = 0;; attempt++) {
            unsigned char r[8];
            tf_track_random_bytes(r, sizeof r);
            unsigned long long v = 0;
            for (int i = 0; i < 8; i++) v = v << 8 | r[i];
            /* A large random integer like MLflow's, 18 digits, never starting with 0. */
            snprintf(m->exp_id, sizeof m->exp_id, "%llu", 100000000000000000ULL + v % 900000000000000000ULL);
            tf_track_path(path, sizeof path, "%s/%s", m->root, m->exp_id);
            if (mkdir(path, 0755) == 0) break;
            if (errno != EEXIST || attempt > 20)
                tf_die_hint("check the MLflow root's permissions", "cannot create '%s': %s", path, strerror(errno));
        }
        write_experiment_meta(m->root, m->exp_id, name);
    }
    close(fd); /* releases the lock */
}

static void write_run_meta(const TfMlflow *m, int status, int64_t end_ms) {
    char path[PATH_CAP], art[PATH_CAP];
    tf_track_path(path, sizeof path, "%s/meta.yaml", m->run_dir);
    tf_track_path(art, sizeof art, "%s/artifacts", m->run_dir);
    TfStrBuf b = {0};
    tf_sb_puts(&b, "artifact_uri: ");
    file_uri(&b, art);
    tf_sb_puts(&b, "\ndeleted_time: null\n");
    if (end_ms >= 0) tf_sb_printf(&b, "end_time: %lld\n", (long long)end_ms);
    else tf_sb_puts(&b, "end_time: null\n");
    tf_sb_puts(&b, "entry_point_name: ''\nexperiment_id: ");
    tf_yaml_quoted(&b, m->exp_id);
    tf_sb_puts(&b, "\nlifecycle_stage: active\nrun_id: ");
    tf_yaml_scalar(&b, m->run_id);
    tf_sb_puts(&b, "\nrun_name: ");
    tf_yaml_scalar(&b, m->run_name);
    tf_sb_puts(&b, "\nrun_uuid: ");
    tf_yaml_scalar(&b, m->run_id);
    tf_sb_puts(&b, "\nsource_name: ''\nsource_type: 4\nsource_version: ''\n");
    tf_sb_printf(&b, "start_time: %lld\nstatus: %d\ntags: []\nuser_id: ", (long long)m->start_ms, status);
    tf_yaml_scalar(&b, m->user);
    tf_sb_puts(&b, "\n");
    tf_track_write_atomic(path, b.s, b.len);
    tf_sb_free(&b);
}

static void default_user(char *out, size_t cap) {
    const char *u = getenv("USER");
    if (!u || !*u) {
        struct passwd *pw = getpwuid(geteuid());
        u = pw && pw->pw_name && *pw->pw_name ? pw->pw_name : "unknown";
    }
    snprintf(out, cap, "%s", u);
}

/* --- public ------------------------------------------------------------------------------------ */

TfMlflow *tf_mlflow_open(const TfMlflowOptions *o) {
    const char *exp = o->experiment && *o->experiment ? o->experiment : "Default";
    if (!o->root || !*o->root) tf_die_usage("pass the mlruns directory", "MLflow root is not set");
    if (!o->run_name || !*o->run_name) tf_die_usage("pass a run name", "MLflow run name is empty");
    if (!tf_yaml_printable(exp) || strlen(exp) > 500)
        tf_die_usage("use a printable name of at most 500 chars", "invalid MLflow experiment name '%.80s'", exp);
    if (!tf_yaml_printable(o->run_name) || strlen(o->run_name) > TF_MLFLOW_MAX_NAME)
        tf_die_usage("use a printable run name of at most 250 chars", "invalid MLflow run name '%.80s'", o->run_name);
    TfMlflow *m = tf_calloc(1, sizeof *m);
    tf_track_mkdirs(o->root);
    if (!realpath(o->root, m->root))
        tf_die_hint("check the path", "cannot resolve MLflow root '%s': %s", o->root, strerror(errno));
    snprintf(m->run_name, sizeof m->run_name, "%s", o->run_name);
    if (o->user && *o->user) snprintf(m->user, sizeof m->user, "%s", o->user);
    else default_user(m->user, sizeof m->user);
    if (!tf_yaml_printable(m->user)) snprintf(m->user, sizeof m->user, "unknown");
    snprintf(m->source_name, sizeof m->source_name, "%s", o->source_name ? o->source_name : "");

    open_experiment(m, exp);
    for (int attempt = 0;; attempt++) {
        random_hex(m->run_id, 16, 1);
        tf_track_path(m->run_dir, sizeof m->run_dir, "%s/%s/%s", m->root, m->exp_id, m->run_id);
        if (mkdir(m->run_dir, 0755) == 0) break;
        if (errno != EEXIST || attempt > 20)
            tf_die_hint("check the MLflow root's permissions", "cannot create run directory '%s': %s", m->run_dir,
                        strerror(errno));
    }
    static const char *const subdirs[] = {"metrics", "params", "tags", "artifacts"};
    for (int i = 0; i < 4; i++) {
        char p[PATH_CAP];
        tf_track_path(p, sizeof p, "%s/%s", m->run_dir, subdirs[i]);
        tf_track_mkdirs(p);
    }
    m->start_ms = tf_track_now_ms();
    write_run_meta(m, TF_RUN_RUNNING, -1);
    tf_mlflow_set_tag(m, "mlflow.runName", m->run_name);
    tf_mlflow_set_tag(m, "mlflow.user", m->user);
    tf_mlflow_set_tag(m, "mlflow.source.name", m->source_name);
    tf_mlflow_set_tag(m, "mlflow.source.type", "LOCAL");
    if (o->git_commit && *o->git_commit) tf_mlflow_set_tag(m, "mlflow.source.git.commit", o->git_commit);
    return m;
}

/* <run_dir>/<sub>/<key>, with the key's parent folders created. */
static void key_path(const TfMlflow *m, const char *sub, const char *key, char *out, size_t cap) {
    tf_track_path(out, cap, "%s/%s/%s", m->run_dir, sub, key);
    const char *slash = strrchr(key, '/');
    if (slash) {
        char dir[PATH_CAP];
        tf_track_path(dir, sizeof dir, "%s/%s/%.*s", m->run_dir, sub, (int)(slash - key), key);
        tf_track_mkdirs(dir);
    }
}

void tf_mlflow_log_param(TfMlflow *m, const char *key, const char *value) {
    need_key("param", key);
    need_text("param value", value, TF_MLFLOW_MAX_PARAM);
    char path[PATH_CAP];
    key_path(m, "params", key, path, sizeof path);
    size_t n = strlen(value);
    if (tf_track_create_exclusive(path, value, n)) return;
    char err[1024];
    size_t len = 0;
    char *old = tf_track_read_file(path, TF_MLFLOW_MAX_PARAM + 16, &len, err, sizeof err);
    if (!old) tf_die_hint("check the run directory", "cannot read param: %s", err);
    int same = len == n && memcmp(old, value, n) == 0;
    if (!same)
        tf_die_usage("MLflow params are immutable: log the new value under another key, or start a new run",
                     "param '%s' was already logged as '%.200s'; cannot change it to '%.200s' (%s)", key, old,
                     value, path);
    free(old);
}

void tf_mlflow_log_metric(TfMlflow *m, const char *key, double value, int64_t step, int64_t timestamp_ms) {
    need_key("metric", key);
    char path[PATH_CAP], line[128];
    key_path(m, "metrics", key, path, sizeof path);
    int k = snprintf(line, sizeof line, "%lld %.17g %lld\n", (long long)timestamp_ms, value, (long long)step);
    TF_ASSERT(k > 0 && (size_t)k < sizeof line);
    tf_track_append(path, line, (size_t)k);
}

void tf_mlflow_set_tag(TfMlflow *m, const char *key, const char *value) {
    need_key("tag", key);
    need_text("tag value", value, TF_MLFLOW_MAX_TAG);
    char path[PATH_CAP];
    key_path(m, "tags", key, path, sizeof path);
    tf_track_write_atomic(path, value, strlen(value));
}

void tf_mlflow_log_artifact_bytes(TfMlflow *m, const char *dest, const void *data, size_t n) {
    need_key("artifact path", dest);
    char path[PATH_CAP];
    key_path(m, "artifacts", dest, path, sizeof path);
    tf_track_write_atomic(path, data, n);
}

void tf_mlflow_log_artifact(TfMlflow *m, const char *src, const char *dest) {
    if (!dest) dest = tf_track_basename(src);
    need_key("artifact path", dest);
    char path[PATH_CAP];
    key_path(m, "artifacts", dest, path, sizeof path);
    tf_track_copy_file(src, path);
}

void tf_mlflow_close(TfMlflow *m, TfRunStatus status) {
    if (!m) return;
    if (status != TF_RUN_FINISHED && status != TF_RUN_FAILED && status != TF_RUN_KILLED)
        tf_die_usage("close a run as FINISHED, FAILED or KILLED", "invalid final MLflow run status %d", (int)status);
    int64_t end = tf_track_now_ms();
    if (end < m->start_ms) end = m->start_ms;
    write_run_meta(m, (int)status, end);
    free(m);
}
