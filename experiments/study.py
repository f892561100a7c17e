#!/usr/bin/env python3
"""study.py - the README's sampling study: FID (tinyflow's own classifier) of one trained model
under different solvers / step counts, guidance scales, schedulers and EMA vs raw weights.
Every point is one `tinyflow fid` run (mpirun over RANKS ranks); results go to OUT/points.csv,
OUT/study.md (tables) and OUT/fid_vs_nfe.svg (plot). Re-running skips points already in the CSV.

    study.py --ckpt RUN/checkpoints --clf CLF_DIR --dataset mnist --out results/study_mnist
             [--n 2000] [--ranks 2] [--sets solvers,guidance,schedulers,ema] [--floor FID]
             [--nfe 10,20,50] [--tols 1e-3,1e-5] [--scales 0,1,1.5,2,3,5]

Needs only the Python standard library. Knows tinyflow only through its command line and the
metrics.jsonl each `tinyflow fid` run writes.
"""
import argparse, csv, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Fixed-step solvers are compared at equal model evaluations (NFE): steps = NFE / calls per step.
# DDIM runs on the EDM time grid as the issue asks; dopri5's "steps" is its step cap (its NFE is
# what it needed at the tolerance).
def solver_points(nfes, tols):
    pts = []
    for s, per in (("euler", 1), ("midpoint", 2), ("heun", 2), ("rk4", 4), ("ddim", 1)):
        for n in nfes:
            k = max(1, round(n / per))
            if s == "ddim" and k < 2:
                continue
            pts.append((s, k, ["solver.grid=edm"] if s == "ddim" else []))
    pts += [("dopri5", 1000, [f"solver.atol={t}", f"solver.rtol={t}"]) for t in tols]
    return pts


NFE_PER_STEP = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4, "rk4_38": 4, "ddim": 1}


def point_key(p):
    return "|".join([p["set"], p["solver"], str(p["steps"]), str(p["guidance"]), p["scheduler"], str(p["ema"]),
                     " ".join(p["extra"])])


def plan(sets, base_solver, base_steps, base_guidance, nfes=(10, 20, 50), tols=("1e-3", "1e-5"),
         scales=(0.0, 1.0, 1.5, 2.0, 3.0, 5.0)):
    pts = []
    def add(set_, solver, steps, guidance, scheduler="", ema=True, extra=()):
        pts.append(dict(set=set_, solver=solver, steps=steps, guidance=guidance, scheduler=scheduler, ema=ema,
                        extra=list(extra)))
    if "solvers" in sets:
        for s, k, ex in solver_points(nfes, tols):
            add("solvers", s, k, base_guidance, extra=ex)
    if "guidance" in sets:
        for g in scales:
            add("guidance", base_solver, base_steps, g)
    if "schedulers" in sets:
        for sch in ("condot", "cosine", "polynomial", "lvp"):
            add("schedulers", base_solver, base_steps, base_guidance, scheduler=sch)
    if "ema" in sets:
        for e in (True, False):
            add("ema", base_solver, base_steps, base_guidance, ema=e)
    return pts


def run_point(a, p, outdir):
    ov = [f"dataset={a.dataset}", f"dataset.root={a.data}", f"eval.checkpoint={a.ckpt}",
          f"eval.classifier.ckpt={a.clf}", f"eval.fid_samples={a.n}", f"eval.solver.name={p['solver']}",
          f"eval.solver.steps={p['steps']}", f"eval.solver.guidance={p['guidance']}",
          f"eval.use_ema={'true' if p['ema'] else 'false'}", f"trainer.out_dir={outdir}", "eval.kid_subsets=0"]
    if p["scheduler"]:
        ov.append(f"eval.solver.scheduler={p['scheduler']}")
    ov += p["extra"]
    cmd = [os.path.join(ROOT, "launch", "local.sh"), "-n", str(a.ranks), "-t", "1", "fid"] + ov
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.time() - t0
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-2000:] + r.stderr[-2000:])
        raise SystemExit(f"study: point {point_key(p)} failed (exit {r.returncode})")
    with open(os.path.join(outdir, "metrics.jsonl")) as f:
        m = json.loads(f.readlines()[-1])
    nfe = m.get("nfe")
    if nfe is None:  # adaptive: rank 0's count for its share (one solve while the share is <= 4 x eval.batch_size)
        import re
        seen = re.findall(r"NFE so far (\d+)", r.stdout)
        nfe = float(seen[-1]) if seen and p["solver"] == "dopri5" else None
    if nfe is None:  # fixed-step solvers: steps x calls per step
        nfe = p["steps"] * NFE_PER_STEP.get(p["solver"], 0) or float("nan")
    return dict(fid=m["fid"], class_acc=m.get("class_acc", float("nan")), nfe=nfe, seconds=round(secs, 1))


def svg_plot(rows, floor, path):
    """FID vs NFE per solver, log-log, as a self-contained SVG (no plotting library needed)."""
    import math
    pts = [r for r in rows if r["set"] == "solvers" and r["nfe"] == r["nfe"] and r["fid"] > 0]
    if not pts:
        return
    W, H, L, B, T, R = 640, 420, 70, 50, 20, 150
    xs = [math.log10(float(r["nfe"])) for r in pts]
    ys = [math.log10(float(r["fid"])) for r in pts] + ([math.log10(floor)] if floor else [])
    x0, x1 = math.floor(min(xs) * 2) / 2, math.ceil(max(xs) * 2) / 2
    y0, y1 = math.floor(min(ys) * 2) / 2, math.ceil(max(ys) * 2) / 2
    sx = lambda v: L + (v - x0) / (x1 - x0) * (W - L - R)
    sy = lambda v: H - B - (v - y0) / (y1 - y0) * (H - B - T)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
           f'<text x="{(L+W-R)/2}" y="{H-10}" text-anchor="middle">model evaluations per sample (NFE, log)</text>',
           f'<text x="15" y="{(T+H-B)/2}" transform="rotate(-90 15 {(T+H-B)/2})" text-anchor="middle">FID (log)</text>']
    for e in range(int(x0 * 2), int(x1 * 2) + 1):
        v = e / 2
        out.append(f'<text x="{sx(v):.1f}" y="{H-B+16}" text-anchor="middle">{10**v:.3g}</text>')
    for e in range(int(y0 * 2), int(y1 * 2) + 1):
        v = e / 2
        out.append(f'<text x="{L-6}" y="{sy(v)+4:.1f}" text-anchor="end">{10**v:.3g}</text>')
        out.append(f'<line x1="{L}" y1="{sy(v):.1f}" x2="{W-R}" y2="{sy(v):.1f}" stroke="#ddd"/>')
    if floor:
        out.append(f'<line x1="{L}" y1="{sy(math.log10(floor)):.1f}" x2="{W-R}" y2="{sy(math.log10(floor)):.1f}" '
                   f'stroke="gray" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{W-R+6}" y="{sy(math.log10(floor))+4:.1f}" fill="gray">real-data floor</text>')
    solvers = []
    for r in pts:
        if r["solver"] not in solvers:
            solvers.append(r["solver"])
    for i, s in enumerate(solvers):
        c = colors[i % len(colors)]
        ser = sorted([(math.log10(float(r["nfe"])), math.log10(float(r["fid"]))) for r in pts if r["solver"] == s])
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                   (c, " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ser)))
        for x, y in ser:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{W-R+6}" y="{T+16*i+10}" fill="{c}">{s}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def tables(rows, floor, n, path):
    lines = [f"FID at {n} samples (the real-data floor at {n}: {floor:.3f})" if floor else f"FID at {n} samples", ""]
    def table(set_, cols):
        rs = [r for r in rows if r["set"] == set_]
        if not rs:
            return
        lines.append("| " + " | ".join(c for c, _ in cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for r in rs:
            lines.append("| " + " | ".join(f(r) for _, f in cols) + " |")
        lines.append("")
    ratio = (lambda r: f"{float(r['fid'])/floor:.2f}") if floor else (lambda r: "")
    acc = lambda r: "" if r["class_acc"] != r["class_acc"] else f"{100*float(r['class_acc']):.2f} %"
    base = [("FID", lambda r: f"{float(r['fid']):.3f}"), ("x floor", ratio), ("class accuracy", acc),
            ("seconds", lambda r: str(r["seconds"]))]
    table("solvers", [("solver", lambda r: r["solver"] + (" (EDM grid)" if r["solver"] == "ddim" else "")),
                      ("steps", lambda r: "adaptive " + r["extra"].split()[0].split("=")[1] if r["solver"] == "dopri5"
                       else str(r["steps"])), ("NFE", lambda r: f"{float(r['nfe']):.0f}")] + base)
    table("guidance", [("guidance", lambda r: str(r["guidance"]))] + base)
    table("schedulers", [("sampling scheduler", lambda r: r["scheduler"])] + base)
    table("ema", [("weights", lambda r: "EMA" if str(r["ema"]) == "True" else "raw")] + base)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True); ap.add_argument("--clf", required=True)
    ap.add_argument("--dataset", default="mnist"); ap.add_argument("--data", default="data")
    ap.add_argument("--out", required=True); ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--sets", default="solvers,guidance,schedulers,ema")
    ap.add_argument("--nfe", default="10,20,50", help="solvers: the NFE budgets compared")
    ap.add_argument("--tols", default="1e-3,1e-5", help="solvers: dopri5 tolerances")
    ap.add_argument("--scales", default="0,1,1.5,2,3,5", help="guidance: the scales compared")
    ap.add_argument("--solver", default="midpoint"); ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--guidance", type=float, default=1.5)
    ap.add_argument("--floor", type=float, default=None, help="FID of N real test images (same N)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    csv_path = os.path.join(a.out, "points.csv")
    fields = ["set", "solver", "steps", "guidance", "scheduler", "ema", "extra", "nfe", "fid", "class_acc", "seconds"]
    done = {}
    if os.path.exists(csv_path):
        with open(csv_path) as f:
            for r in csv.DictReader(f):
                done["|".join([r["set"], r["solver"], r["steps"], r["guidance"], r["scheduler"], r["ema"], r["extra"]])] = r
    pts = plan(a.sets.split(","), a.solver, a.steps, a.guidance, [int(x) for x in a.nfe.split(",")],
               a.tols.split(","), [float(x) for x in a.scales.split(",")])
    # The same sampler settings in two sets (e.g. the base point, condot = the training path) run once.
    same = lambda p: "|".join([p["solver"], str(p["steps"]), str(float(p["guidance"])),
                               "" if p["scheduler"] in ("", "condot") else p["scheduler"], str(p["ema"]),
                               " ".join(p["extra"]) if isinstance(p["extra"], list) else p["extra"]])
    results = {same(dict(r, extra=r["extra"])): r for r in done.values()}
    for i, p in enumerate(pts):
        k = point_key(p)
        if k in done:
            continue
        prev = results.get(same(p))
        if prev:
            res = {c: (float(prev[c]) if c != "seconds" else prev[c]) for c in ("fid", "class_acc", "nfe", "seconds")}
        else:
            res = run_point(a, p, os.path.join(a.out, f"point_{len(done):03d}"))
        results[same(p)] = dict(res)
        row = dict(p, extra=" ".join(p["extra"]), **res)
        done[k] = {f: str(row[f]) for f in fields}
        new = not os.path.exists(csv_path)
        with open(csv_path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            if new:
                w.writeheader()
            w.writerow(row)
        print(f"study: {i+1}/{len(pts)} {k}: FID {res['fid']:.3f}, NFE {res['nfe']}, {res['seconds']} s", flush=True)
    rows = list(done.values())
    for r in rows:
        for c in ("nfe", "fid", "class_acc"):
            r[c] = float(r[c])
    svg_plot(rows, a.floor, os.path.join(a.out, "fid_vs_nfe.svg"))
    tables(rows, a.floor, a.n, os.path.join(a.out, "study.md"))
    print(f"study: wrote {a.out}/study.md and {a.out}/fid_vs_nfe.svg")


if __name__ == "__main__":
    main()
