#!/usr/bin/python3
"""SGEMM GFLOP/s of numpy's BLAS (Debian's OpenBLAS when run through ../gemm-compare.sh).

Same protocol as `bn4j bench gemm`: float32, C = A @ B, per size two warm-up rounds, then the best of
--reps repetitions of a loop lasting at least --min-ms; GFLOP/s = 2*m*n*k / seconds.
Run with OPENBLAS_NUM_THREADS set (the comparison script sets it to the thread count).
"""
import argparse
import json
import time

import numpy as np


def blas_library():
    """Path of the BLAS shared object numpy actually loaded (read from /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(libs)
    except OSError:
        return []


def measure(m, n, k, min_ms, reps):
    rng = np.random.default_rng(42)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    c = np.empty((m, n), dtype=np.float32)
    flops = 2.0 * m * n * k
    best = 0.0
    for rep in range(-2, reps):
        start = time.perf_counter()
        iters = 0
        while True:
            np.matmul(a, b, out=c)
            iters += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_ms / 1000.0:
                break
        if rep >= 0:
            best = max(best, flops * iters / elapsed / 1e9)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1024x1024x1024,512x512x512,256x256x256,60x100x784,32x784x288,64x196x576")
    p.add_argument("--min-ms", type=int, default=300)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    rows = []
    for s in args.sizes.split(","):
        m, n, k = (int(x) for x in s.lower().split("x"))
        rows.append({"m": m, "n": n, "k": k, "gflops": round(measure(m, n, k, args.min_ms, args.reps), 3)})
    if args.json:
        print(json.dumps({"benchmark": "gemm-numpy", "blas": blas_library(), "results": rows}))
    else:
        print("numpy SGEMM, BLAS:", ", ".join(blas_library()) or "unknown")
        print("%8s %8s %8s %10s" % ("m", "n", "k", "GFLOP/s"))
        for r in rows:
            print("%8d %8d %8d %10.2f" % (r["m"], r["n"], r["k"], r["gflops"]))


if __name__ == "__main__":
    main()
