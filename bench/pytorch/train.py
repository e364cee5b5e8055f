#!/usr/bin/python3
"""PyTorch twin of `bn4j bench train`: training images/s of the benchmark MLP or CNN, and BN's share of the step.

  mlp: 784-100-100-100-10, BatchNorm1d before each sigmoid, batch 60, plain SGD (lr 0.01)
  cnn: 4x(conv3x3 pad 1 + BatchNorm2d + ReLU), 2x2 max-pool after the 2nd and 4th, Linear(3136->10),
       batch 128, SGD momentum 0.9 (lr 0.01)
  resnet: the built-in ResNet at width 16 (conv3x3 + BN + ReLU, BasicBlocks 16->16, 16->32 /2, 32->64 /2,
       global average pool, Linear(64->10)), batch 128, SGD momentum 0.9 (lr 0.01)

Same protocol as the Java side: synthetic N(0,1) inputs (8 batches cycled) and random labels, --warmup steps,
then --reps timed chunks of --steps steps; images/s is the median chunk. bn_share comes from a separate profiled
chunk: self CPU time of every operator whose name contains "batch_norm" (forward and backward) over the self
CPU time of all operators. Use Debian's /usr/bin/python3; for the OpenBLAS comparison set
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread (bench/compare_train.py does).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "interop"))
import models  # noqa: E402


def blas_libraries():
    try:
        with open("/proc/self/maps") as f:
            return sorted({ln.split()[-1] for ln in f if "blas" in ln.lower() and "/" in ln})
    except OSError:
        return []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn", "resnet"], default="mlp")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=0, help="steps per timed chunk (default: mlp 200, cnn and resnet 10)")
    p.add_argument("--warmup", type=int, default=0, help="warm-up steps (default: one chunk, at least 20)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model == "mlp":
        net = models.build("mlp", "bn", "sigmoid", 100)
        batch = 60
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        steps = a.steps or 200
    else:
        net = models.build(a.model, "bn", "relu", 32 if a.model == "cnn" else 16)
        batch = 128
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        steps = a.steps or 10
    xs = [torch.randn(batch, 1, 28, 28) for _ in range(8)]
    ys = [torch.randint(0, 10, (batch,)) for _ in range(8)]
    loss_fn = torch.nn.CrossEntropyLoss()
    net.train()
    k = [0]

    def step():
        i = k[0] % 8
        k[0] += 1
        opt.zero_grad(set_to_none=False)
        loss_fn(net(xs[i]), ys[i]).backward()
        opt.step()

    for _ in range(a.warmup or max(20, steps)):
        step()
    rates = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * batch / (time.perf_counter() - t0))
    with torch.autograd.profiler.profile() as prof:
        for _ in range(max(2, steps // 4)):
            step()
    total = 0.0
    bn = 0.0
    for e in prof.key_averages():
        total += e.self_cpu_time_total
        if "batch_norm" in e.key.lower():
            bn += e.self_cpu_time_total
    out = {"model": a.model, "threads": a.threads, "batch_size": batch,
           "images_per_s": round(statistics.median(rates), 1), "bn_share": round(bn / total, 4) if total else None,
           "impl": "pytorch " + torch.__version__, "blas": blas_libraries()}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"pytorch {a.model}: {out['images_per_s']} images/s, {a.threads} thread(s), batch {batch},"
              f" BN share {out['bn_share']}, BLAS {', '.join(out['blas']) or 'unknown'}")


if __name__ == "__main__":
    main()
