#!/usr/bin/env python3
"""check.py - the comparisons of the fault-injection suite (tests/reliability/faults.sh).
Standard library only. Exit 0 when the check holds, 1 otherwise; one line of numbers on stdout.

  check.py losses RUN REF [SKIP [UNTIL]]
                                    every loss RUN/metrics.jsonl logged (each occurrence of a
                                    step: before and after a resume) is bitwise equal to REF's
                                    at that step, and every step of REF is logged by RUN; step
                                    indices in the comma-separated SKIP list must be logged with
                                    no loss (skipped) instead; with UNTIL only step indices
                                    below it are compared (a skip changes what follows)
  check.py samples LOG REF [SKIP]   consumed-sample records (TINYFLOW_SAMPLE_LOG prefix: files
                                    PREFIX.rank<R>, lines "STEP RANK EXAMPLE..."): every record
                                    of LOG equals REF's record of that step and rank, every
                                    record of REF appears in LOG, and no example appears in two
                                    different steps of one epoch; prints how many records were
                                    repeated (steps redone after a fault)
  check.py faulttime LOG            the t= of the first "fault injected" line of a run's log
  check.py field RUN KEY            the last value of KEY in RUN/metrics.jsonl
Must not know how the runs were started (faults.sh does that)."""
import glob
import json
import re
import sys


def losses(run):
    out = []
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            d = json.loads(line)
            if "loss" in d:
                out.append((d["step"], d["loss"]))
    return out


def cmd_losses(run, ref, skip="", until="-1"):
    skipped = {int(s) for s in skip.split(",") if s}
    lim = int(until)
    want = {s: v for s, v in losses(ref) if lim < 0 or s - 1 < lim}
    got = [(s, v) for s, v in losses(run) if lim < 0 or s - 1 < lim]
    seen, bad = set(), []
    for step, v in got:
        seen.add(step)
        # metrics.jsonl's "step" is the number of steps done, so step index s is logged as s+1
        if step - 1 in skipped and v is None:
            continue
        if step not in want or v != want[step]:
            bad.append("step %d: loss %r, reference %r" % (step, v, want.get(step)))
    missing = sorted(set(want) - seen)
    if missing:
        bad.append("steps missing: %s" % missing[:10])
    redone = len(got) - len(seen)
    print("%d losses compared bitwise with %s (%d logged twice: redone after the fault), %d bad%s"
          % (len(got), ref, redone, len(bad), ": " + "; ".join(bad[:5]) if bad else ""))
    return 0 if got and not bad else 1


def records(prefix):
    out = []
    for path in sorted(glob.glob(prefix + ".rank*")):
        with open(path) as f:
            for line in f:
                v = line.split()
                out.append((int(v[0]), int(v[1]), tuple(int(x) for x in v[2:])))
    return out


def cmd_samples(log, ref, steps_per_epoch="0"):
    want = {(s, r): ex for s, r, ex in records(ref)}
    got = records(log)
    seen, bad = set(), []
    for s, r, ex in got:
        seen.add((s, r))
        if want.get((s, r)) != ex:
            bad.append("step %d rank %d: examples differ from the reference" % (s, r))
    missing = sorted(set(want) - seen)
    if missing:
        bad.append("records missing: %s" % missing[:6])
    spe = int(steps_per_epoch)
    used = {}
    for (s, r), ex in want.items():
        for e in ex:
            key = (s // spe if spe else 0, e)
            if key in used and used[key] != s:
                bad.append("example %d consumed at steps %d and %d of one epoch" % (e, used[key], s))
            used[key] = s
    print("%d consumed-sample records compared with the reference (%d repeated: steps redone), %d bad%s"
          % (len(got), len(got) - len(seen), len(bad), ": " + "; ".join(bad[:5]) if bad else ""))
    return 0 if got and not bad else 1


def cmd_faulttime(log):
    with open(log, errors="replace") as f:
        for line in f:
            m = re.search(r"fault injected: .*\(.*t=([0-9.]+)\)", line)
            if m:
                print(m.group(1))
                return 0
    print("none")
    return 1


def cmd_field(run, key):
    val = None
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            d = json.loads(line)
            if key in d:
                val = d[key]
    print(val)
    return 0 if val is not None else 1


def main():
    cmds = {"losses": cmd_losses, "samples": cmd_samples, "faulttime": cmd_faulttime, "field": cmd_field}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:])


sys.exit(main())
