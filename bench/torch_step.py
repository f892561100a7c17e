#!/usr/bin/python3
"""torch_step.py - the PyTorch side of bench_step: times one flow-matching training step
(forward, MSE, backward, Adam) or one sampling step (forward under no_grad) of the reference
UNet (tests/torch/unet_ref.py, conditional, 10 classes) and prints ONE JSON line:

  {"impl":"pytorch","torch":..,"config":..,"mode":..,"batch":..,"threads":..,"images_per_s":..,
   "step_ms":..,"gflops_effective":..,"peak_rss_mb":.., ...}

step_ms is the mean over --iters timed steps after --warmup untimed ones (by default as many
steps as fit in --budget 15 s at the last warmup step's pace, 2 to 20; the batch is drawn inside
the timed step, as bench_step does); images_per_s = batch / step; gflops_effective =
unet_flops (analytic forward FLOPs) x 3 for train, x 1 for sample, per second.

  /usr/bin/python3 bench/torch_step.py --config mnist|cifar --mode train|sample [--batch N]
      [--threads T] [--iters K] [--warmup W] [--best] [--device cpu|cuda] [--tf32]

--device cuda: the same step on the GPU (model, batch and optimizer on the device; each timed
step ends with torch.cuda.synchronize()); fp32 math unless --tf32 (which allows TF32 in both
matmuls and cuDNN convolutions; PyTorch's own default allows it in cuDNN, so fp32 here means
both switched off); with --best, channels_last and cudnn.benchmark. The JSON line then also
has "device", "gpu", "tf32" and "gpu_peak_mb". The CPU behaviour is unchanged.

--best: the fastest settings found for this build of PyTorch: re-executes itself with
OPENBLAS_CORETYPE=SkylakeX and ATEN_CPU_CAPABILITY=avx512 when the CPU has AVX-512 (and they are
not already those; this machine's environment sets OPENBLAS_CORETYPE=Haswell) and with glibc's
MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised (freed activations are reused instead of
being unmapped and faulted in again), keeps oneDNN (torch.backends.mkldnn) enabled and uses the channels_last memory
format; the JSON records which settings were used ("settings") and a note goes to stderr.
Default batches are the benchmark shapes of unet.md: train mnist 128, cifar 32; sample mnist 256,
cifar 64. Use /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REEXEC_FLAG = "TF_TORCH_STEP_REEXEC"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_capability(torch):
    """The ATen kernel level in use (torch 1.13 has no API for it; __config__.show() says it)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return None


def parse():
    ap = argparse.ArgumentParser(description="PyTorch side of the tinyflow step benchmark")
    ap.add_argument("--config", choices=("mnist", "cifar"), default="mnist")
    ap.add_argument("--mode", choices=("train", "sample"), default="train")
    ap.add_argument("--batch", type=int, default=0, help="default: 128/32 train, 256/64 sample")
    ap.add_argument("--threads", type=int, default=0, help="default: all cores")
    ap.add_argument("--iters", type=int, default=0,
                    help="timed steps (default: as many as fit in --budget seconds by the warmup's pace, 2 to 20)")
    ap.add_argument("--budget", type=float, default=15.0, help="seconds of timed steps when --iters is not given")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--best", action="store_true", help="use the fastest settings found (see the doc string)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the step runs (default cpu)")
    ap.add_argument("--tf32", action="store_true", help="with --device cuda: allow TF32 matmuls and convolutions")
    a = ap.parse_args()
    if not a.batch:
        a.batch = {("mnist", "train"): 128, ("cifar", "train"): 32,
                   ("mnist", "sample"): 256, ("cifar", "sample"): 64}[(a.config, a.mode)]
    if not a.threads:
        a.threads = os.cpu_count() or 1
    if a.batch < 1 or a.iters < 0 or a.warmup < 0 or a.threads < 1 or a.budget <= 0:
        ap.error("batch and threads must be >= 1, iters and warmup >= 0, budget > 0")
    if a.tf32 and a.device != "cuda":
        ap.error("--tf32 needs --device cuda")
    return a


def main():
    a = parse()
    settings = {}
    cuda = a.device == "cuda"
    if a.best and not cuda:
        # Environment that must be in place before torch (and OpenBLAS) load: re-exec once.
        # glibc malloc: keep freed memory instead of unmapping it, so the next step's activations
        # do not page-fault again (this VM's page faults are costly: about 10x fewer minor faults).
        want = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "68719476736"}
        if "avx512f" in cpu_flags():
            want["OPENBLAS_CORETYPE"] = "SkylakeX"
            want["ATEN_CPU_CAPABILITY"] = "avx512"
        todo = {k: v for k, v in want.items() if os.environ.get(k) != v}
        if todo and not os.environ.get(REEXEC_FLAG):
            env = dict(os.environ, **todo)
            env[REEXEC_FLAG] = "1"
            for k in todo:   # what the caller had, for the record
                env["TF_TORCH_STEP_WAS_" + k] = os.environ.get(k, "")
            print("torch_step --best: re-executing with %s" % " ".join("%s=%s" % kv for kv in sorted(todo.items())),
                  file=sys.stderr)
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)
    # Thread counts of OpenMP and OpenBLAS are read when the libraries load.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)

    try:
        import torch
    except ImportError as e:
        print("torch_step: cannot import torch with %s: %s (use /usr/bin/python3)" % (sys.executable, e),
              file=sys.stderr)
        return 77
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "torch"))
    import unet_ref

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    channels_last = False
    dev = torch.device("cpu")
    if cuda:
        if not torch.cuda.is_available():
            print("torch_step: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
            return 77
        dev = torch.device("cuda")
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        if a.best:
            torch.backends.cudnn.benchmark = True
            channels_last = True
        settings["tf32"] = a.tf32
        settings["cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
    elif a.best:
        torch.backends.mkldnn.enabled = torch.backends.mkldnn.is_available()
        channels_last = True
    for k in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        if k in os.environ:
            settings[k] = os.environ[k]
        if "TF_TORCH_STEP_WAS_" + k in os.environ:
            settings[k + "_was"] = os.environ["TF_TORCH_STEP_WAS_" + k] or None
    settings["mkldnn"] = bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled)
    settings["channels_last"] = channels_last
    settings["cpu_capability"] = cpu_capability(torch)
    if a.best:
        print("torch_step --best: settings %s" % json.dumps(settings, sort_keys=True), file=sys.stderr)

    cfg = unet_ref.get_config(a.config)
    model = unet_ref.UNet.from_config(cfg)
    mf = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device=dev, memory_format=mf)
    B, S, nc = a.batch, cfg["image_size"], cfg["num_classes"]
    shape = (B, cfg["in_ch"], S, S)
    train = a.mode == "train"
    opt = torch.optim.Adam(model.parameters(), lr=2e-4) if train else None

    def batch():
        x1 = torch.randn(shape, device=dev)            # data stand-in
        x0 = torch.randn(shape, device=dev)
        t = torch.rand(B, device=dev)
        tb = t[:, None, None, None]
        xt = (tb * x1 + (1 - tb) * x0).contiguous(memory_format=mf)
        y = torch.randint(0, nc + 1, (B,), device=dev)  # the null class included, as classifier-free training does
        return xt, t, y, x1 - x0

    def step():
        xt, t, y, target = batch()
        if train:
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(model(xt, t, y), target)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(xt, t, y)
        if cuda:
            torch.cuda.synchronize()

    model.train(train)
    warm = []
    for _ in range(a.warmup):
        t0 = time.perf_counter()
        step()
        warm.append(time.perf_counter() - t0)
    iters = a.iters
    if not iters:
        if warm:
            iters = int(max(2, min(20, a.budget // max(warm[-1], 1e-3))))
        else:
            iters = 4
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    med = sorted(times)[len(times) // 2]
    flops = unet_ref.unet_flops(cfg, B) * (3 if train else 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        load1 = None
    out = {"impl": "pytorch", "torch": torch.__version__, "config": a.config, "mode": a.mode, "batch": B,
           "threads": torch.get_num_threads(), "images_per_s": round(B / mean, 2), "step_ms": round(mean * 1e3, 1),
           "gflops_effective": round(flops / mean * 1e-9, 1), "peak_rss_mb": round(rss),
           "step_ms_median": round(med * 1e3, 1), "step_ms_min": round(min(times) * 1e3, 1),
           "iters": iters, "warmup": a.warmup, "warmup_ms": [round(w * 1e3, 1) for w in warm], "params": sum(p.numel() for p in model.parameters()),
           "gflop_per_step": round(flops * 1e-9, 2), "best": a.best, "settings": settings,
           "loadavg_1m": load1}
    if cuda:
        out["device"] = "cuda"
        out["gpu"] = torch.cuda.get_device_name(dev)
        out["tf32"] = a.tf32
        out["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated(dev) / 2**20)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
