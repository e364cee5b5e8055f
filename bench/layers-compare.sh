#!/usr/bin/env bash
# Layer benchmarks side by side with PyTorch (Debian's /usr/bin/python3, python3-torch), interleaved A B A B:
# conv layers (1 thread), the CNN training step (1 and 2 threads) and the MLP step (1 thread).
#   bench/layers-compare.sh [ROUNDS]      (wrap in `flock /tmp/bn4j-bench.lock` when others benchmark too)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
ROUNDS="${1:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
"$ROOT/bn4j" --version >/dev/null # builds the jar when needed and checks the JDK
. "$ROOT/tools/find-jdk.sh"
bn4j_find_jdk
J=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "$ROOT/batchnorm4j-cli/target/bn4j.jar")
cd "$ROOT/bench/layers"
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r"
  "${J[@]}" io.github.batchnorm4j.bench.layers.ConvLayers 1 2>/dev/null; OMP_NUM_THREADS=1 "$PYTHON" conv_layers.py 1
  for t in 1 2; do
    "${J[@]}" io.github.batchnorm4j.bench.layers.CnnStep "$t" 2>/dev/null; OMP_NUM_THREADS=$t "$PYTHON" cnn_step.py "$t"
  done
  "${J[@]}" io.github.batchnorm4j.bench.layers.MlpStep 1 2>/dev/null; OMP_NUM_THREADS=1 "$PYTHON" mlp_step.py 1
done
