#!/usr/bin/env bash
# SGEMM side by side: `bn4j bench gemm` against numpy on Debian's OpenBLAS, interleaved A B A B ... so that
# machine noise hits both alike. Prints each round and the ratio of medians (bn4j / OpenBLAS) per size.
#   bench/gemm-compare.sh [--threads N] [--rounds R] [--sizes 1024x1024x1024,...]
# Needs Debian's /usr/bin/python3 with python3-numpy and libopenblas0-pthread (loaded via LD_LIBRARY_PATH).
# Wrap in `flock /tmp/bn4j-bench.lock` when other benchmarks may run.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
THREADS=1
ROUNDS=3
SIZES="1024x1024x1024,512x512x512,256x256x256,60x100x784,32x784x288,64x196x576"
PYTHON="${PYTHON:-/usr/bin/python3}"
OPENBLAS_DIR="${OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    *) echo "gemm-compare: unknown argument $1" >&2; exit 2 ;;
  esac
done
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$ROOT/bn4j" --version >/dev/null # build once before timing
for r in $(seq 1 "$ROUNDS"); do
  "$ROOT/bn4j" bench gemm --threads "$THREADS" --sizes "$SIZES" --json 2>/dev/null > "$OUT/java-$r.json"
  OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$PYTHON" "$ROOT/bench/openblas/gemm.py" --sizes "$SIZES" --json > "$OUT/blas-$r.json"
done
"$PYTHON" - "$OUT" "$ROUNDS" "$THREADS" <<'PY'
import json, statistics, sys
out, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
java = [json.load(open(f"{out}/java-{r}.json")) for r in range(1, rounds + 1)]
blas = [json.load(open(f"{out}/blas-{r}.json")) for r in range(1, rounds + 1)]
print(f"threads={threads} rounds={rounds} BLAS={', '.join(blas[0]['blas']) or 'unknown'}")
print("%-16s %-34s %-34s %8s" % ("m x n x k", "bn4j GFLOP/s (per round)", "OpenBLAS GFLOP/s (per round)", "ratio"))
for i, row in enumerate(java[0]["results"]):
    size = f"{row['m']}x{row['n']}x{row['k']}"
    j = [run["results"][i]["gflops"] for run in java]
    b = [run["results"][i]["gflops"] for run in blas]
    ratio = statistics.median(j) / statistics.median(b)
    print("%-16s %-34s %-34s %8.2f" % (size, " ".join(f"{v:.1f}" for v in j), " ".join(f"{v:.1f}" for v in b), ratio))
PY
