#!/usr/bin/env python3
"""compare.py [FILE...] - pairs benchmark JSON lines of tinyflow (bench_step) and PyTorch
(torch_step.py) and prints a Markdown table plus one JSON line per pair.

Reads the files given, or stdin ('-' is stdin too). Lines that are not JSON objects with
"impl", "config", "mode", "batch", "threads" and "images_per_s" are ignored (stderr notes, build
output). Entries pair when config, mode, batch and threads all match; where one side has several
entries for a key (repeats, PyTorch default and --best), the fastest is used and the table says
which PyTorch settings it was. ratio = tinyflow images/s / PyTorch images/s (> 1: tinyflow faster).

Output: the table, then {"config":..,"mode":..,"ratio":..,"batch":..,"threads":..} per pair.
Exit 0 with at least one pair, 1 with none (the unmatched entries are listed on stderr).
Standard library only; any python3 runs it.
"""
import json
import sys

KEYS = ("config", "mode", "batch", "threads")


def read_entries(paths):
    entries = []
    streams = [("-", sys.stdin)] if not paths else []
    for p in paths:
        if p == "-":
            streams.append(("-", sys.stdin))
        else:
            try:
                streams.append((p, open(p)))
            except OSError as e:
                print("compare.py: cannot read %s: %s" % (p, e), file=sys.stderr)
                sys.exit(1)
    for name, f in streams:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                d = json.loads(line)
            except ValueError:
                print("compare.py: %s:%d: not JSON, ignored" % (name, n), file=sys.stderr)
                continue
            if not isinstance(d, dict) or d.get("impl") not in ("tinyflow", "pytorch"):
                continue
            if any(k not in d for k in KEYS) or not isinstance(d.get("images_per_s"), (int, float)):
                print("compare.py: %s:%d: lacks %s, ignored" % (name, n, "/".join(KEYS + ("images_per_s",))),
                      file=sys.stderr)
                continue
            entries.append(d)
        if f is not sys.stdin:
            f.close()
    return entries


def settings_note(d):
    if d.get("impl") != "pytorch":
        return d.get("gemm", "")
    return "best" if d.get("best") else "default"


def main():
    entries = read_entries(sys.argv[1:])
    best = {}
    for d in entries:
        k = tuple(d[x] for x in KEYS) + (d["impl"],)
        if k not in best or d["images_per_s"] > best[k]["images_per_s"]:
            best[k] = d
    keys = sorted({k[:4] for k in best}, key=lambda k: (str(k[0]), str(k[1]), k[2], k[3]))
    pairs, unmatched = [], []
    for k in keys:
        tf, pt = best.get(k + ("tinyflow",)), best.get(k + ("pytorch",))
        if tf and pt:
            pairs.append((k, tf, pt))
        else:
            unmatched.append((k, "tinyflow" if tf else "pytorch"))
    if not pairs:
        print("compare.py: no tinyflow/pytorch pair with matching config, mode, batch and threads "
              "(%d entries read)" % len(entries), file=sys.stderr)
        for k, impl in unmatched:
            print("  only %s: %s" % (impl, dict(zip(KEYS, k))), file=sys.stderr)
        return 1

    print("| config | mode | batch | threads | tinyflow img/s | PyTorch img/s | PyTorch settings | "
          "tinyflow / PyTorch | tinyflow GFLOP/s | PyTorch GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|")
    lines = []
    for (config, mode, batch, threads), tf, pt in pairs:
        ratio = tf["images_per_s"] / pt["images_per_s"] if pt["images_per_s"] > 0 else float("inf")
        print("| %s | %s | %d | %d | %.2f | %.2f | %s | %.2fx | %s | %s |" % (
            config, mode, batch, threads, tf["images_per_s"], pt["images_per_s"], settings_note(pt), ratio,
            tf.get("gflops_effective", "-"), pt.get("gflops_effective", "-")))
        lines.append({"config": config, "mode": mode, "ratio": round(ratio, 3), "batch": batch, "threads": threads})
    for d in lines:
        print(json.dumps(d))
    for k, impl in unmatched:
        print("compare.py: unpaired (only %s): %s" % (impl, dict(zip(KEYS, k))), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
