#!/usr/bin/python3
"""Folded inference against ONNX Runtime, every model x batch x thread count, and the ratios as Markdown.

  /usr/bin/python3 bench/compare_infer.py [--rounds 7] [--min-ms 300] [--models mlp,cnn,resnet]
                                          [--batches 1,64] [--threads 1,2] [--json-out FILE]

Each cell is one `./bn4j bench infer --vs-onnxruntime --json` run: our serving path (Predictor: BN folded, Conv2d +
ReLU fused, 3x3 convolutions by Winograd) and ONNX Runtime's Java API on the ONNX file exported from the same
folded model, interleaved in the same JVM, medians over the rounds. Ratio = our throughput / ONNX Runtime's (above 1: we are faster).
"""
import argparse
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--min-ms", type=int, default=300)
    p.add_argument("--models", default="mlp,cnn,resnet")
    p.add_argument("--batches", default="1,64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--json-out")
    a = p.parse_args()
    rows = []
    for model in a.models.split(","):
        for t in a.threads.split(","):
            for b in a.batches.split(","):
                out = subprocess.run([os.path.join(ROOT, "bn4j"), "bench", "infer", "--model", model,
                                      "--batch-size", b, "--threads", t, "--rounds", str(a.rounds),
                                      "--min-ms", str(a.min_ms), "--vs-onnxruntime", "--json"],
                                     cwd=ROOT, capture_output=True, text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                print(json.dumps(r), flush=True)
                rows.append(r)
    if a.json_out:
        with open(a.json_out + ".tmp", "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        os.replace(a.json_out + ".tmp", a.json_out)
    print()
    print("| model | threads | batch | bn4j ms | ONNX Runtime ms | throughput bn4j / ORT | max rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %d | %.3f | %.3f | **%.2f** | %.1e |" % (r["model"], r["threads"], r["batch_size"],
              r["median_ms"], r["onnxruntime_median_ms"], r["throughput_ratio"], r["max_rel_diff"]))


if __name__ == "__main__":
    main()
