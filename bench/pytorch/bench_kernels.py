#!/usr/bin/python3
"""PyTorch counterpart of `bn4j bench kernels`: the same shapes, ops, byte model and timing rule.

Run with Debian's python3-torch and jemalloc preloaded, so that PyTorch's fresh outputs (50 MB for the
largest shape) are not page-faulted on every call; the figures are then kernel figures. jemalloc must also keep
freed pages: by default allocations over 8 MB go to an arena that returns them to the OS at once (on this VM a
page fault costs ~50 us, 0.3 s for a 25 MB output), hence MALLOC_CONF:

    MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1 \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 bench/pytorch/bench_kernels.py --threads 1

Ops (ATen kernels called directly, no autograd): train_forward = native_batch_norm(training=True),
eval_forward = native_batch_norm(training=False), backward = native_batch_norm_backward with the saved
mean/invstd and all three gradients. Byte model over the tensor size T: 3T, 2T, 5T.
"""
import argparse
import json
import statistics
import sys
import time

import torch

CASES = [
    ("64x64x56x56", "NCHW", (64, 64, 56, 56)),
    ("64x64x56x56", "NHWC", (64, 64, 56, 56)),
    ("128x64x28x28", "NCHW", (128, 64, 28, 28)),
    ("32x256x14x14", "NCHW", (32, 256, 14, 14)),
    ("4096x1024", "NC", (4096, 1024)),
    ("60x100", "NC", (60, 100)),
]
TRIAD_N = 64 * 64 * 56 * 56


def median_ms(op, numel, min_ms):
    """Warm up (batches of ~20 ms until the best batch stops improving, >= min_ms/3, >= 20 calls for big
    tensors and 1000 for small ones), then samples of ~2 ms of calls until min_ms (>= 15 samples); median."""
    min_calls = 20 if numel >= (1 << 20) else 1000
    start = time.perf_counter()
    op()
    per_call = max(1e-7, time.perf_counter() - start)
    best, stale, calls = float("inf"), 0, 1
    while True:
        batch = int(max(1, min(100_000, 0.020 / per_call)))
        s = time.perf_counter()
        for _ in range(batch):
            op()
        calls += batch
        per_call = max(1e-8, (time.perf_counter() - s) / batch)
        if per_call < best * 0.97:
            best, stale = per_call, 0
        else:
            stale += 1
        elapsed = time.perf_counter() - start
        if (stale >= 3 and calls >= min_calls and elapsed >= min_ms / 3000) or elapsed > 60:
            break
    inner = max(1, int(-(-0.002 // best)))
    samples, total = [], 0.0
    while len(samples) < 15 or total < min_ms / 1000:
        s = time.perf_counter()
        for _ in range(inner):
            op()
        dt = time.perf_counter() - s
        total += dt
        samples.append(dt / inner)
        if len(samples) > 2000:
            break
    return statistics.median(samples) * 1000


def run_case(shape, layout, dims, threads, min_ms):
    g = torch.Generator().manual_seed(1)
    x = (0.5 + 2 * torch.randn(dims, generator=g))
    dy = torch.randn(dims, generator=g)
    if layout == "NHWC":
        x = x.contiguous(memory_format=torch.channels_last)
        dy = dy.contiguous(memory_format=torch.channels_last)
    c = dims[1]
    w = 1 + 0.1 * torch.randn(c, generator=g)
    b = 0.1 * torch.randn(c, generator=g)
    rm, rv = torch.zeros(c), torch.ones(c)
    nbytes = 4.0 * x.numel()
    rows = []
    bn = torch.ops.aten.native_batch_norm
    with torch.no_grad():
        ms = median_ms(lambda: bn(x, w, b, rm, rv, True, 0.1, 1e-5), x.numel(), min_ms)
        rows.append(row(shape, layout, "train_forward", threads, ms, 3 * nbytes))
        ms = median_ms(lambda: bn(x, w, b, rm, rv, False, 0.1, 1e-5), x.numel(), min_ms)
        rows.append(row(shape, layout, "eval_forward", threads, ms, 2 * nbytes))
        _, save_mean, save_invstd = bn(x, w, b, None, None, True, 0.1, 1e-5)
        bwd = torch.ops.aten.native_batch_norm_backward
        ms = median_ms(lambda: bwd(dy, x, w, rm, rv, save_mean, save_invstd, True, 1e-5, [True, True, True]),
                       x.numel(), min_ms)
        rows.append(row(shape, layout, "backward", threads, ms, 5 * nbytes))
    return rows


def row(shape, layout, op, threads, ms, nbytes):
    return {"shape": shape, "layout": layout, "op": op, "threads": threads, "median_ms": round(ms, 5),
            "gbps": round(nbytes / ms / 1e6, 3)}


def triad(threads, min_ms):
    a = torch.empty(TRIAD_N)
    b = torch.ones(TRIAD_N)
    c = torch.full((TRIAD_N,), 2.0)
    ms = median_ms(lambda: torch.add(b, c, alpha=3.0, out=a), TRIAD_N, min_ms)
    return {"op": "triad", "threads": threads, "gbps": round(3 * 4.0 * TRIAD_N / ms / 1e6, 3)}


def main():
    if "jemalloc" not in open("/proc/self/maps").read():
        print("bench_kernels: warning: jemalloc is not preloaded; fresh outputs will be page-faulted",
              file=sys.stderr)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument("--min-ms", type=float, default=600)
    p.add_argument("--shapes", default=None, help="comma-separated subset, e.g. 60x100")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    wanted = None if args.shapes is None else set(args.shapes.split(","))
    rows = [triad(args.threads, args.min_ms)]
    for shape, layout, dims in CASES:
        if wanted is None or shape in wanted:
            rows.extend(run_case(shape, layout, dims, args.threads, args.min_ms))
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
        roof = rows[0]["gbps"]
        for r in rows:
            print(f"{r.get('shape', '-'):<14} {r.get('layout', '-'):<5} {r['op']:<14} "
                  f"{r.get('median_ms', 0):>10.4f} {r['gbps']:>8.2f} {100 * r['gbps'] / roof:>6.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
