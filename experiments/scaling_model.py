#!/usr/bin/env python3
"""scaling_model.py - docs/scaling.md's projection: step time and parallel efficiency of
data-parallel training at 8..512 ranks from a MEASURED per-rank compute time and a ring-allreduce
cost model  T_ar(p) = 2 (p-1) alpha + 2 (p-1)/p * bytes / beta  (alpha: per-message latency,
beta: per-link bandwidth), with no overlap of communication and backward (tinyflow allreduces
after the backward pass; overlap would hide up to the backward time).

    scaling_model.py --params 1.1e6 --img-s-per-rank 85 --per-rank-batch 64 \
                     --alpha 5e-6 --beta 12e9 [--ranks 8,32,128,512] [--global-batch 0]

--img-s-per-rank: training images/s of ONE rank on its share (measured: bench_step / a 1-rank run);
--global-batch 0 = weak scaling (each rank keeps --per-rank-batch); > 0 = strong scaling (the
global batch is split over p ranks). Prints a Markdown table. Standard library only.
"""
import argparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", type=float, required=True, help="parameters (floats in the gradient arena)")
    ap.add_argument("--img-s-per-rank", type=float, required=True)
    ap.add_argument("--per-rank-batch", type=int, default=64)
    ap.add_argument("--global-batch", type=int, default=0)
    ap.add_argument("--alpha", type=float, required=True, help="latency per ring step, seconds")
    ap.add_argument("--beta", type=float, required=True, help="bandwidth per link, bytes/s")
    ap.add_argument("--bytes-per-param", type=float, default=4.0)
    ap.add_argument("--ranks", default="1,8,32,128,512")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    nbytes = a.params * a.bytes_per_param
    if a.label:
        print(f"**{a.label}**: {a.params/1e6:.2f} M parameters ({nbytes/1e6:.1f} MB of fp32 gradients), "
              f"{a.img_s_per_rank:g} images/s per rank, alpha {a.alpha*1e6:g} us, beta {a.beta/1e9:g} GB/s, "
              + ("weak scaling: %d images per rank" % a.per_rank_batch if a.global_batch <= 0
                 else "strong scaling: global batch %d" % a.global_batch))
        print()
    print("| ranks | images per rank | compute (ms) | allreduce (ms) | step (ms) | comm share | images/s | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for p in [int(x) for x in a.ranks.split(",")]:
        b = a.per_rank_batch if a.global_batch <= 0 else a.global_batch / p
        comp = b / a.img_s_per_rank
        ar = 0.0 if p == 1 else 2 * (p - 1) * a.alpha + 2 * (p - 1) / p * nbytes / a.beta
        step = comp + ar
        ips = p * b / step
        if base is None:
            base = a.img_s_per_rank
        eff = ips / (p * base)
        print(f"| {p} | {b:g} | {comp*1e3:.1f} | {ar*1e3:.2f} | {step*1e3:.1f} | {100*ar/step:.1f} % | {ips:,.0f} | "
              f"{100*eff:.0f} % |")


if __name__ == "__main__":
    main()
