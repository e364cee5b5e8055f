#!/usr/bin/env bash
# The library as its users get it: installs the artifacts into the local Maven repository, builds and runs the
# examples project against them (without and with the Vector API), and builds the API documentation of the
# library modules (any doclint warning fails). Run after ./test (CI: .ci/run).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$ROOT/tools/find-jdk.sh"
bn4j_find_jdk

cd "$ROOT"
mvn -q -B -ntp install -DskipTests
bash examples/run.sh
# The plugin skips modules whose previous output it thinks current: start from none.
rm -rf batchnorm4j-{core,dist,onnx,repro,bench}/target/reports/apidocs
mvn -q -B -ntp -pl batchnorm4j-core,batchnorm4j-dist,batchnorm4j-onnx,batchnorm4j-repro,batchnorm4j-bench javadoc:javadoc
echo "library-check: artifacts installed, examples ran both ways, javadoc clean"
