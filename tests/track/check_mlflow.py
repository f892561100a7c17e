#!/usr/bin/env python3
"""check_mlflow.py - validates an MLflow file store (mlruns/) by FileStore's rules, without mlflow.

  check_mlflow.py ROOT [--snapshot-params OUT.json] [--params-unchanged IN.json]

Rules (formats.md section 1): ROOT/.trash exists; ROOT/0/meta.yaml is the Default experiment;
every experiment folder's meta.yaml has artifact_location (absolute file:// URI ending in the
folder), creation_time/last_update_time (int ms), experiment_id (a *string* equal to the folder
name, ^[a-zA-Z0-9][\\w\\-]{0,63}$), lifecycle_stage (active|deleted), a unique name; every run
folder (all but tags/datasets/traces) has meta.yaml with run_id == run_uuid == folder name
(^[a-zA-Z0-9][\\w\\-]{0,255}$), experiment_id (string) == the experiment folder, status int
1..5, start_time int ms, end_time null while RUNNING/SCHEDULED and an int ms >= start_time
after, lifecycle_stage, tags == [], the other FileStore fields; top-level keys in sorted order.
metrics/<key>: newline-terminated lines "<int ms> <float> [<int step>]"; params/<key>: no
trailing newline, <= 6000 chars; tags/<key>: <= 5000 chars; mlflow.runName == run_name.
Keys match ^[/\\w.\\- ]*$, <= 250 chars, normalised relative paths. No temp files left over.
--snapshot-params records every run's params; --params-unchanged fails when a recorded param
changed or disappeared (params are immutable). Exit 0 when valid, 1 listing each problem.
Needs PyYAML. Knows nothing about how the tree was written.
"""
import argparse
import json
import os
import posixpath
import re
import sys
import urllib.parse

import yaml

EXP_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
KEY_RE = re.compile(r"^[/\w.\- ]*$")
INT_RE = re.compile(r"^-?[0-9]+$")
MS_MIN, MS_MAX = 946684800000, 4102444800000  # 2000-01-01 .. 2100-01-01 in ms
RESERVED = {"tags", "datasets", "traces"}
EXP_KEYS = ["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name"]
RUN_KEYS = ["artifact_uri", "end_time", "entry_point_name", "experiment_id", "lifecycle_stage", "run_id",
            "run_name", "run_uuid", "source_name", "source_type", "source_version", "start_time", "status",
            "tags", "user_id"]
SOURCE_TYPES = {"NOTEBOOK", "JOB", "PROJECT", "LOCAL", "UNKNOWN", "RECIPE"}


def key_problem(key):
    if not key:
        return "empty key"
    if len(key) > 250:
        return f"key longer than 250 chars ({len(key)})"
    if not KEY_RE.match(key):
        return f"key {key!r} has characters outside [/\\w.\\- ]"
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/") or ".." in key.split("/"):
        return f"key {key!r} is not a normalised relative path"
    return None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_ms(v):
    return is_int(v) and MS_MIN <= v <= MS_MAX


def files_under(d):
    """Relative paths of all files under d (walked recursively, as FileStore reads keys)."""
    out = []
    for base, _, files in os.walk(d):
        for f in files:
            out.append(os.path.relpath(os.path.join(base, f), d).replace(os.sep, "/"))
    return sorted(out)


class Checker:
    def __init__(self, root):
        self.root = root
        self.errors = []
        self.params = {}  # run_id -> {key: value}

    def err(self, where, msg):
        self.errors.append(f"{os.path.relpath(where, self.root) if where != self.root else '.'}: {msg}")

    def load_yaml(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            doc = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            self.err(path, f"unreadable YAML: {e}")
            return None
        if not isinstance(doc, dict):
            self.err(path, "meta.yaml is not a mapping")
            return None
        keys = [m.group(1) for m in re.finditer(r"^([A-Za-z_]\w*):", text, re.M)]
        if keys != sorted(keys):
            self.err(path, f"top-level keys are not in sorted order: {keys}")
        return doc

    def check_uri(self, path, field, value, suffix):
        if not isinstance(value, str) or not value.startswith("file:///"):
            self.err(path, f"{field} {value!r} is not an absolute file:// URI")
            return
        p = urllib.parse.unquote(urllib.parse.urlparse(value).path)
        if not p.endswith(suffix):
            self.err(path, f"{field} {value!r} does not end in {suffix}")

    def check_root(self):
        if not os.path.isdir(self.root):
            self.err(self.root, "not a directory")
            return
        if not os.path.isdir(os.path.join(self.root, ".trash")):
            self.err(self.root, ".trash/ is missing")
        names = {}
        for d in sorted(os.listdir(self.root)):
            full = os.path.join(self.root, d)
            if ".tmp." in d:
                self.err(full, "leftover temp file")
            if not os.path.isdir(full) or d == ".trash":
                continue
            name = self.check_experiment(full, d)
            if name is not None:
                if name in names:
                    self.err(full, f"duplicate experiment name {name!r} (also {names[name]})")
                names[name] = d
        if names.get("Default") != "0":
            self.err(self.root, "0/meta.yaml with name Default (experiment '0') is missing")

    def check_experiment(self, d, exp_id):
        meta = os.path.join(d, "meta.yaml")
        if not os.path.isfile(meta):
            self.err(d, "experiment folder without meta.yaml")
            return None
        doc = self.load_yaml(meta)
        if doc is None:
            return None
        for k in EXP_KEYS:
            if k not in doc:
                self.err(meta, f"missing {k}")
        eid = doc.get("experiment_id")
        if not isinstance(eid, str):
            self.err(meta, f"experiment_id {eid!r} is not a string (quote it)")
        elif not EXP_ID_RE.match(eid):
            self.err(meta, f"experiment_id {eid!r} does not match {EXP_ID_RE.pattern}")
        elif eid != exp_id:
            self.err(meta, f"experiment_id {eid!r} differs from its folder name {exp_id!r}")
        for k in ("creation_time", "last_update_time"):
            if k in doc and not is_ms(doc[k]):
                self.err(meta, f"{k} {doc[k]!r} is not an int timestamp in ms")
        if doc.get("lifecycle_stage") not in ("active", "deleted"):
            self.err(meta, f"lifecycle_stage {doc.get('lifecycle_stage')!r} is not active/deleted")
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            self.err(meta, f"name {name!r} is not a non-empty string")
            name = None
        self.check_uri(meta, "artifact_location", doc.get("artifact_location"), "/" + exp_id)
        for sub in sorted(os.listdir(d)):
            full = os.path.join(d, sub)
            if ".tmp." in sub:
                self.err(full, "leftover temp file")
            if sub == "tags" and os.path.isdir(full):
                self.check_kv(full, "experiment tag", 5000)
            elif os.path.isdir(full) and sub not in RESERVED:
                self.check_run(full, exp_id, sub)
        return name

    def check_kv(self, d, what, limit, no_newline=False, collect=None):
        for key in files_under(d):
            path = os.path.join(d, key)
            if ".tmp." in key:
                self.err(path, "leftover temp file")
                continue
            p = key_problem(key)
            if p:
                self.err(path, f"{what}: {p}")
            try:
                with open(path, encoding="utf-8") as f:
                    value = f.read()
            except (OSError, UnicodeDecodeError) as e:
                self.err(path, f"{what} unreadable: {e}")
                continue
            if len(value) > limit:
                self.err(path, f"{what} value is {len(value)} chars (limit {limit})")
            if no_newline and value.endswith("\n"):
                self.err(path, f"{what} value has a trailing newline")
            if collect is not None:
                collect[key] = value

    def check_metrics(self, d):
        for key in files_under(d):
            path = os.path.join(d, key)
            if ".tmp." in key:
                self.err(path, "leftover temp file")
                continue
            p = key_problem(key)
            if p:
                self.err(path, f"metric: {p}")
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if not text:
                self.err(path, "empty metric file")
                continue
            if not text.endswith("\n"):
                self.err(path, "last metric line is not newline-terminated")
            for i, line in enumerate(text.split("\n")[:-1], 1):
                parts = line.split(" ")
                if len(parts) not in (2, 3):
                    self.err(path, f"line {i}: {len(parts)} fields, expected 'timestamp value [step]'")
                    continue
                if not INT_RE.match(parts[0]) or not MS_MIN <= int(parts[0]) <= MS_MAX:
                    self.err(path, f"line {i}: timestamp {parts[0]!r} is not an int in ms")
                try:
                    float(parts[1])
                except ValueError:
                    self.err(path, f"line {i}: value {parts[1]!r} is not a float")
                if len(parts) == 3 and not INT_RE.match(parts[2]):
                    self.err(path, f"line {i}: step {parts[2]!r} is not an int")

    def check_run(self, d, exp_id, run_dir):
        meta = os.path.join(d, "meta.yaml")
        if not os.path.isfile(meta):
            self.err(d, "run folder without meta.yaml")
            return
        doc = self.load_yaml(meta)
        if doc is None:
            return
        for k in RUN_KEYS:
            if k not in doc:
                self.err(meta, f"missing {k}")
        rid = doc.get("run_id")
        if not isinstance(rid, str) or not RUN_ID_RE.match(rid):
            self.err(meta, f"run_id {rid!r} does not match {RUN_ID_RE.pattern}")
        elif rid != run_dir:
            self.err(meta, f"run_id {rid!r} differs from its folder name {run_dir!r}")
        if doc.get("run_uuid") != rid:
            self.err(meta, f"run_uuid {doc.get('run_uuid')!r} differs from run_id {rid!r}")
        eid = doc.get("experiment_id")
        if not isinstance(eid, str) or eid != exp_id:
            self.err(meta, f"experiment_id {eid!r} is not the string {exp_id!r} of the parent folder")
        status = doc.get("status")
        if not is_int(status) or status not in (1, 2, 3, 4, 5):
            self.err(meta, f"status {status!r} is not a RunStatus int 1..5")
        start, end = doc.get("start_time"), doc.get("end_time")
        if not is_ms(start):
            self.err(meta, f"start_time {start!r} is not an int timestamp in ms")
        if status in (1, 2) and end is not None:
            self.err(meta, f"end_time {end!r} set on a run that is still RUNNING/SCHEDULED")
        if status in (3, 4, 5) and not (is_ms(end) and is_ms(start) and end >= start):
            self.err(meta, f"end_time {end!r} is not an int ms >= start_time on a finished run")
        if doc.get("lifecycle_stage", "active") not in ("active", "deleted"):
            self.err(meta, f"lifecycle_stage {doc.get('lifecycle_stage')!r} is not active/deleted")
        if doc.get("tags") != []:
            self.err(meta, f"tags {doc.get('tags')!r} is not the empty list")
        if not is_int(doc.get("source_type")):
            self.err(meta, f"source_type {doc.get('source_type')!r} is not an int")
        for k in ("run_name", "user_id", "entry_point_name", "source_name", "source_version"):
            if k in doc and not isinstance(doc[k], str):
                self.err(meta, f"{k} {doc[k]!r} is not a string")
        if doc.get("deleted_time") is not None and not is_ms(doc.get("deleted_time")):
            self.err(meta, f"deleted_time {doc.get('deleted_time')!r} is neither null nor ms")
        self.check_uri(meta, "artifact_uri", doc.get("artifact_uri"), f"/{exp_id}/{run_dir}/artifacts")
        for sub in sorted(os.listdir(d)):
            if ".tmp." in sub:
                self.err(os.path.join(d, sub), "leftover temp file")
        params, tags = {}, {}
        if os.path.isdir(os.path.join(d, "metrics")):
            self.check_metrics(os.path.join(d, "metrics"))
        if os.path.isdir(os.path.join(d, "params")):
            self.check_kv(os.path.join(d, "params"), "param", 6000, no_newline=True, collect=params)
        if os.path.isdir(os.path.join(d, "tags")):
            self.check_kv(os.path.join(d, "tags"), "tag", 5000, collect=tags)
        if not os.path.isdir(os.path.join(d, "artifacts")):
            self.err(d, "artifacts/ is missing")
        if "mlflow.runName" in tags and tags["mlflow.runName"] != doc.get("run_name"):
            self.err(d, f"tag mlflow.runName {tags['mlflow.runName']!r} differs from run_name {doc.get('run_name')!r}")
        if "mlflow.source.type" in tags and tags["mlflow.source.type"] not in SOURCE_TYPES:
            self.err(d, f"tag mlflow.source.type {tags['mlflow.source.type']!r} is not a SourceType")
        if isinstance(rid, str):
            self.params[rid] = params


def check_tree(root, snapshot=None):
    """(errors, params by run id). snapshot: params recorded earlier that must be unchanged."""
    c = Checker(root)
    c.check_root()
    for rid, old in (snapshot or {}).items():
        new = c.params.get(rid)
        if new is None:
            c.errors.append(f"run {rid}: present in the params snapshot, missing now")
            continue
        for k, v in old.items():
            if k not in new:
                c.errors.append(f"run {rid}: param {k!r} disappeared (params are immutable)")
            elif new[k] != v:
                c.errors.append(f"run {rid}: param {k!r} changed from {v!r} to {new[k]!r} (params are immutable)")
    return c.errors, c.params


def read_metric(path):
    """[(timestamp_ms, value, step)] of a metric file."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n")[:-1]:
            p = line.split(" ")
            out.append((int(p[0]), float(p[1]), int(p[2]) if len(p) == 3 else 0))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--snapshot-params", metavar="OUT.json")
    ap.add_argument("--params-unchanged", metavar="IN.json")
    a = ap.parse_args(argv)
    snap = None
    if a.params_unchanged:
        with open(a.params_unchanged, encoding="utf-8") as f:
            snap = json.load(f)
    errors, params = check_tree(a.root, snap)
    if a.snapshot_params:
        with open(a.snapshot_params, "w", encoding="utf-8") as f:
            json.dump(params, f, indent=1, sort_keys=True)
    for e in errors:
        print(e)
    print(f"{a.root}: {len(params)} runs, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
