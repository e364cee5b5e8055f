#!/usr/bin/env bash
# Builds the examples against the installed batchnorm4j artifacts and runs each one twice: without the Vector API
# (scalar kernels, one notice) and with --add-modules jdk.incubator.vector. Fails if an example fails or does not
# print what it should. Install the library first: mvn -q install -DskipTests (in the repository root).
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B -ntp package
CP="target/classes:$(cat target/classpath.txt)"
check() { # name, flags, expected line (grep -E), ...
  local name="$1" flags="$2"; shift 2
  local out err
  err="$(mktemp)"
  out="$(java $flags -cp "$CP" "example.$name" 2>"$err")" || { cat "$err" >&2; echo "examples: $name ($flags) failed" >&2; exit 1; }
  for want in "$@"; do
    grep -Eq "$want" <<<"$out" || { echo "$out" >&2; echo "examples: $name ($flags) did not print /$want/" >&2; exit 1; }
  done
  if [ -z "$flags" ]; then
    grep -q "jdk.incubator.vector is not available, using the scalar kernels" "$err" \
      || { cat "$err" >&2; echo "examples: $name without the flag did not print the notice" >&2; exit 1; }
  fi
  rm -f "$err"
  echo "examples: $name ${flags:-(no flags)}: ok"
}
for flags in "" "--add-modules jdk.incubator.vector"; do
  check QuickStart "$flags" "^channel 2: y mean [+-]0\.0000" "gradient check: passed" "NHWC path equals NCHW path: true"
  check TrainMlp "$flags" "training accuracy \(eval mode\): 0\.9[0-9]*|accuracy \(eval mode\): 1\.0" \
    "reloaded model gives the same logits: true"
done
