#!/usr/bin/env python3
"""metrics.py - reads a run's metrics.jsonl for the MPI training tests (standard library only).

  metrics.py compare RUN REF [--rtol R]   every logged loss of RUN (each occurrence of a step,
                                          e.g. before and after a resume) against REF's loss at
                                          that step: exactly equal (R = 0, default) or within
                                          relative R; needs REF to cover every step of RUN
  metrics.py decrease RUN K FRACTION      mean loss of the last K entries < FRACTION x the first K
  metrics.py last RUN KEY                 the last value logged for KEY
  metrics.py count RUN KEY                how many entries hold KEY
  metrics.py npy FILE                     the shape of a .npy file, e.g. 12,1,28,28
  metrics.py png FILE                     width,height of a PNG
Exit 0 when the check holds, 1 otherwise (with the numbers printed)."""
import ast
import json
import struct
import sys


def entries(run, key="loss"):
    out = []
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            d = json.loads(line)
            if key in d:
                out.append((d["step"], d[key]))
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "compare":
        run, ref = sys.argv[2], sys.argv[3]
        rtol = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--rtol" else 0.0
        want = dict(entries(ref))
        got = entries(run)
        worst, bad, n = 0.0, 0, 0
        for step, v in got:
            if step not in want or v is None or want[step] is None:
                print("step %d: no comparable loss (run %r, reference %r)" % (step, v, want.get(step)))
                bad += 1
                continue
            n += 1
            w = want[step]
            rel = abs(v - w) / max(abs(w), 1e-30)
            worst = max(worst, rel)
            if (rtol == 0 and v != w) or rel > rtol:
                bad += 1
        print("%d losses compared with %s: max relative difference %.3g (allowed %g), %d out of bounds"
              % (n, ref, worst, rtol, bad))
        return 0 if n and not bad else 1
    if cmd == "decrease":
        run, k, frac = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        v = [x for _, x in entries(run) if x is not None]
        first, last = sum(v[:k]) / k, sum(v[-k:]) / k
        print("loss: first %d entries %.5f, last %d entries %.5f (ratio %.3f, must be < %.3f)"
              % (k, first, k, last, last / first, frac))
        return 0 if len(v) >= 2 * k and last < frac * first else 1
    if cmd in ("last", "count"):
        e = entries(sys.argv[2], sys.argv[3])
        print(e[-1][1] if cmd == "last" and e else len(e))
        return 0 if e else 1
    if cmd == "npy":
        with open(sys.argv[2], "rb") as f:
            head = f.read(10)
            if head[:6] != b"\x93NUMPY":
                return 1
            n = struct.unpack("<H", head[8:10])[0]
            d = ast.literal_eval(f.read(n).decode("latin1"))
            print(",".join(str(x) for x in d["shape"]) + " " + d["descr"])
            return 0
    if cmd == "png":
        with open(sys.argv[2], "rb") as f:
            b = f.read(24)
        if b[:8] != b"\x89PNG\r\n\x1a\n":
            return 1
        w, h = struct.unpack(">II", b[16:24])
        print("%d,%d" % (w, h))
        return 0
    print("unknown command " + cmd)
    return 2


sys.exit(main())
