#!/usr/bin/python3
"""Runs `bn4j bench kernels` and its PyTorch counterpart interleaved (A B A B ...) for 1 and 2 threads and prints,
per row, the median over rounds of each side's median time and the ratio Java time / PyTorch time.

    flock /tmp/bn4j-bench.lock /usr/bin/python3 bench/compare_kernels.py [--rounds 3] [--min-ms 600] [--json out.json]

Other processes on the machine disturb both sides alike within a round; the interleaving spreads slow phases
over both. Needs Debian's python3-torch and libjemalloc2 (preloaded for the PyTorch side).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# Keep freed pages (no eager purge of >8 MB allocations): PyTorch's fresh outputs then cost no page faults.
MALLOC_CONF = "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1"


def run_java(threads, min_ms, shapes):
    cmd = [os.path.join(ROOT, "bn4j"), "bench", "kernels", "--threads", str(threads), "--json",
           "--min-ms", str(min_ms)]
    if shapes:
        cmd += ["--shapes", shapes]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out[out.index("["):])


def run_torch(threads, min_ms, shapes):
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "pytorch", "bench_kernels.py"), "--threads",
           str(threads), "--json", "--min-ms", str(min_ms)]
    if shapes:
        cmd += ["--shapes", shapes]
    env = dict(os.environ, LD_PRELOAD=JEMALLOC, MALLOC_CONF=MALLOC_CONF)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT).stdout
    return json.loads(out)


def key(r):
    return (r.get("shape", "-"), r.get("layout", "-"), r["op"], r["threads"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--min-ms", type=float, default=600)
    p.add_argument("--shapes", default=None)
    p.add_argument("--json", default=None, help="also write all raw rounds and the summary here")
    a = p.parse_args()
    if a.rounds < 3:
        print("compare_kernels: at least 3 rounds, got %d" % a.rounds, file=sys.stderr)
        return 2
    subprocess.run([os.path.join(ROOT, "bn4j"), "--version"], check=True, capture_output=True, cwd=ROOT)  # build
    raw = {"java": {}, "torch": {}}
    for rnd in range(a.rounds):
        for t in [int(v) for v in a.threads.split(",")]:
            for side, fn in (("java", run_java), ("torch", run_torch)):
                print(f"round {rnd + 1}/{a.rounds}, {t} thread(s): {side}", file=sys.stderr, flush=True)
                for r in fn(t, a.min_ms, a.shapes):
                    raw[side].setdefault(key(r), []).append(r)
    print(f"{'shape':<14} {'layout':<6} {'op':<14} {'thr':>3} {'java_ms':>9} {'torch_ms':>9} {'ratio':>6} "
          f"{'java_GB/s':>9} {'torch_GB/s':>10} {'java_%triad':>11}")
    summary = []
    for k in raw["java"]:
        j, t = raw["java"][k], raw["torch"].get(k)
        if t is None:
            continue
        roof = statistics.median(r["gbps"] for r in raw["java"][("-", "-", "triad", k[3])])
        jg, tg = statistics.median(r["gbps"] for r in j), statistics.median(r["gbps"] for r in t)
        if k[2] == "triad":
            print(f"{'triad':<14} {'-':<6} {'triad':<14} {k[3]:>3} {'':>9} {'':>9} {'':>6} {jg:>9.2f} {tg:>10.2f}")
            summary.append({"op": "triad", "threads": k[3], "java_gbps": jg, "torch_gbps": tg})
            continue
        jm, tm = statistics.median(r["median_ms"] for r in j), statistics.median(r["median_ms"] for r in t)
        print(f"{k[0]:<14} {k[1]:<6} {k[2]:<14} {k[3]:>3} {jm:>9.4f} {tm:>9.4f} {jm / tm:>6.2f} {jg:>9.2f} "
              f"{tg:>10.2f} {100 * jg / roof:>10.0f}%")
        summary.append({"shape": k[0], "layout": k[1], "op": k[2], "threads": k[3], "java_ms": jm, "torch_ms": tm,
                        "ratio": jm / tm, "java_gbps": jg, "torch_gbps": tg, "java_pct_triad": 100 * jg / roof})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "raw": {s: [r for rs in v.values() for r in rs] for s, v in raw.items()}},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
