# Sourced by ./bn4j, ./test and .ci/run: sets JAVA_HOME to a JDK >= 25 or exits with one clear line.
# Order: $JAVA_HOME, then `java` on PATH, then the usual install locations.
bn4j_jdk_major() {
  # Prints the feature version of the JDK at $1 (0 when it is not a JDK with javac).
  local home="$1" v
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || { echo 0; return; }
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "${v:-}" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "${v:-0}"
}

bn4j_find_jdk() {
  local want=25 cand best="" bestv=0 v
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for cand in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* "$HOME"/.sdkman/candidates/java/* \
              "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$cand" ] && candidates+=("$cand")
  done
  for cand in "${candidates[@]}"; do
    v=$(bn4j_jdk_major "$cand")
    # JAVA_HOME wins when it is new enough; otherwise take the newest JDK found.
    if [ "$cand" = "${JAVA_HOME:-}" ] && [ "$v" -ge "$want" ]; then best="$cand"; bestv="$v"; break; fi
    if [ "$v" -ge "$want" ] && [ "$v" -gt "$bestv" ]; then best="$cand"; bestv="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "bn4j: needs a JDK 25 or newer (none found in JAVA_HOME or /usr/lib/jvm); install one, e.g. Temurin 25, and set JAVA_HOME" >&2
    exit 3
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
}
