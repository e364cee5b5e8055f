#!/bin/bash
# Runs the whole PyTorch twin at low priority: the quick plan, then the full plan, each in 2 shards side by side
# (one thread each, nice 19). By default twin.py trains the 10 seeds of each MLP run together (batched.py); the
# shards split the plan into whole seed groups. Shards append to part files and skip every key already in any part
# file of the plan, so a killed job resumes where it stopped when started again (also across modes).
# At the end of each plan the parts are merged, sorted by key, into results/<plan>/runs.jsonl.
# CNN runs (the expensive ones) are moved to the end of each plan, so that the MLP results come first.
#   usage: bash tools/twin/run-all.sh [DATA_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-/usr/share/datasets/fashion-mnist}
py=/usr/bin/python3
shards=2
mode=${TWIN_MODE:-}  # empty: seed-batched MLP groups (default); TWIN_MODE=--sequential: every run on its own

# OpenBLAS for torch: the system's default reference BLAS is ~40x slower. As root, installing Debian's
# libopenblas0-pthread makes it the system's libblas.so.3 (update-alternatives, auto mode), which torch then loads.
# Without root, twin.py puts an extracted copy of the same package first on its library path (ensure_environment).
blas_dir="$HOME/.cache/bn4j-twin/openblas"
if [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y libopenblas0-pthread >/dev/null || echo "run-all: apt-get install libopenblas0-pthread failed" >&2
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] \
    && [ ! -e "$blas_dir/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" ]; then
  deb=$(ls /var/cache/apt/archives/libopenblas0-pthread_*.deb 2>/dev/null | tail -1 || true)
  if [ -z "$deb" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download libopenblas0-pthread) && deb=$(ls "$tmp"/libopenblas0-pthread_*.deb | tail -1)
  fi
  if [ -n "$deb" ]; then
    mkdir -p "$blas_dir" && dpkg-deb -x "$deb" "$blas_dir"
  else
    echo "run-all: no OpenBLAS found; the twin runs on the reference BLAS, ~40x slower" >&2
  fi
fi

for plan in quick full; do
  src="$here/plan/$plan.jsonl"
  out="$here/results/$plan"
  if [ ! -f "$src" ]; then
    echo "run-all: expected the plan $src, found none" >&2
    exit 1
  fi
  mkdir -p "$out"
  # Committed results (complete runs.jsonl.gz, or partial.jsonl.gz of an unfinished run, to resume on a fresh
  # machine) count as part files.
  for c in runs partial; do
    if [ -f "$out/$c.jsonl.gz" ] && [ ! -f "$out/part-$c.jsonl" ]; then
      gzip -dc "$out/$c.jsonl.gz" > "$out/part-$c.jsonl"
    fi
  done
  ordered="$out/plan-ordered.jsonl"
  # Stable reorder: MLP runs first, CNN runs last (the shard split is index % n, so both shards get CNNs late).
  "$py" -c 'import json, sys
specs = [l for l in open(sys.argv[1]) if l.strip()]
specs.sort(key=lambda l: json.loads(l)["arch"] == "CNN")
open(sys.argv[2] + ".tmp", "w").write("".join(specs))' "$src" "$ordered"
  mv "$ordered.tmp" "$ordered"
  echo "run-all: $plan: $(wc -l < "$ordered") runs, $shards shards, started $(date -Is)"
  pids=()
  for ((i = 0; i < shards; i++)); do
    # Every part file counts as done: a key finished by any shard, in any earlier mode, is not run again.
    done_args=()
    for f in "$out"/part-*.jsonl; do [ -e "$f" ] && done_args+=(--done "$f"); done
    nice -n 19 "$py" "$here/twin.py" --plan "$ordered" --out "$out/part-$i.jsonl" --shard "$i/$shards" \
      --data "$data" "${done_args[@]}" $mode >> "$out/shard-$i.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for p in "${pids[@]}"; do
    wait "$p" || status=1
  done
  if [ "$status" -ne 0 ]; then
    echo "run-all: $plan: a shard failed; see $out/shard-*.log" >&2
    exit 1
  fi
  "$py" -c 'import json, sys
rows = {}
for p in sys.argv[2:]:
    for l in open(p):
        if l.strip():
            rows[json.loads(l)["key"]] = l if l.endswith("\n") else l + "\n"
open(sys.argv[1] + ".tmp", "w").write("".join(rows[k] for k in sorted(rows)))' "$out/runs.jsonl" "$out"/part-*.jsonl
  mv "$out/runs.jsonl.tmp" "$out/runs.jsonl"
  echo "run-all: $plan: $(wc -l < "$out/runs.jsonl") results in $out/runs.jsonl, finished $(date -Is)"
done
