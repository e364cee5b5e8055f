#!/usr/bin/python3
"""Runs `bn4j bench train` and bench/pytorch/train.py interleaved and prints the ratios as a Markdown table.

  /usr/bin/python3 bench/compare_train.py [--rounds 3] [--configs mlp:1,cnn:1,cnn:2]

Each round runs every configuration once on each side (Java first, then PyTorch), so slow drifts of a shared
machine hit both alike; the table shows the median over rounds. PyTorch runs with Debian's OpenBLAS
(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread) and OMP_NUM_THREADS = --threads; its convolutions
go through oneDNN (mkldnn), as Debian's build enables it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"


def run(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--configs", default="mlp:1,cnn:1,cnn:2")
    a = p.parse_args()
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in a.configs.split(",")]
    res = {c: {"java": [], "torch": [], "java_bn": [], "torch_bn": []} for c in configs}
    for r in range(a.rounds):
        for model, t in configs:
            j = run([os.path.join(ROOT, "bn4j"), "bench", "train", "--model", model, "--threads", str(t), "--json"])
            env = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t))
            q = run(["/usr/bin/python3", "bench/pytorch/train.py", "--model", model, "--threads", str(t), "--json"],
                    env)
            res[(model, t)]["java"].append(j["images_per_s"])
            res[(model, t)]["torch"].append(q["images_per_s"])
            res[(model, t)]["java_bn"].append(j["bn_share"])
            res[(model, t)]["torch_bn"].append(q["bn_share"])
            print(f"round {r + 1}: {model} {t}t java {j['images_per_s']} torch {q['images_per_s']}", file=sys.stderr)
    print("| model | threads | bn4j images/s | PyTorch images/s | ratio | bn4j BN share | PyTorch BN share |")
    print("|---|---|---|---|---|---|---|")
    for (model, t), v in res.items():
        jm = statistics.median(v["java"])
        tm = statistics.median(v["torch"])
        ratios = [x / y for x, y in zip(v["java"], v["torch"])]
        print(f"| {model} | {t} | {jm:.0f} | {tm:.0f} | {statistics.median(ratios):.2f}x |"
              f" {100 * statistics.median(v['java_bn']):.1f}% | {100 * statistics.median(v['torch_bn']):.1f}% |")


if __name__ == "__main__":
    main()
