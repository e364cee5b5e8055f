#!/usr/bin/env bash
# Checks that a fresh machine with only a JDK runs the README's first command: when Maven or the Fashion-MNIST
# files are missing, ./bn4j installs them itself when it may (root with apt-get) and says so in one line, or
# gives the exact command in one line. Maven and the data are hidden (a PATH without mvn, BN4J_DATA unset, the
# Debian folder overridden by BN4J_DEBIAN_DATA); apt-get is a stand-in (BN4J_APT_GET) that logs its arguments and
# performs the install into the hidden places. Run by .ci/run; prints "setup checks: N passed, M failed".
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { echo "  ok: $1"; pass=$((pass + 1)); }
bad() { echo "  FAILED: $1"; fail=$((fail + 1)); }

"$ROOT/bn4j" --version >/dev/null 2>&1 || { echo "check-setup: ./bn4j does not run at all" >&2; exit 1; }
REAL_MVN="$(command -v mvn)"
DATA_SRC="${BN4J_DATA:-/usr/share/datasets/fashion-mnist}"

# A PATH with every command of the machine except mvn.
BIN="$TMP/bin"; mkdir -p "$BIN"
IFS=: read -ra dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n="$(basename "$f")"
    [ "$n" = mvn ] || [ -e "$BIN/$n" ] || { [ -x "$f" ] && ln -s "$f" "$BIN/$n"; }
  done
done

# The apt-get stand-in: logs, then "installs" by putting mvn on the hidden PATH or the IDX files into the folder.
cat > "$TMP/apt-get" <<STUB
#!/usr/bin/env bash
echo "\$*" >> "$TMP/apt.log"
case "\$*" in
  *install*maven*) ln -sf "$REAL_MVN" "$BIN/mvn" ;;
  *install*dataset-fashion-mnist*) mkdir -p "$TMP/debian-data" && ln -sf "$DATA_SRC"/*-ubyte* "$TMP/debian-data/" ;;
esac
STUB
chmod +x "$TMP/apt-get"
root=false; [ "$(id -u)" = 0 ] && root=true

echo "setup checks (root: $root)"
# 1. Maven missing, installing forbidden: one line with the exact command, exit 3.
out="$(env -u BN4J_DATA PATH="$BIN" BN4J_JAR="$TMP/jar1/bn4j.jar" BN4J_APT_GET=none "$ROOT/bn4j" --version 2>&1)"; rc=$?
exp="bn4j: Apache Maven (to build bn4j) is missing; install it with: sudo apt-get install maven"
[ $rc = 3 ] && [ "$out" = "$exp" ] && ok "no Maven, may not install: '$out'" || bad "no Maven, may not install: rc $rc, got '$out'"

# 2. Maven missing, installing allowed (root): one line saying so, then the build and the command run.
if $root; then
  mkdir -p "$TMP/jar2"
  out="$(env -u BN4J_DATA PATH="$BIN" BN4J_JAR="$TMP/jar2/bn4j.jar" BN4J_APT_GET="$TMP/apt-get" "$ROOT/bn4j" --version 2>&1)"; rc=$?
  first="$(printf '%s\n' "$out" | head -n 1)"
  if [ $rc = 0 ] && [ "$first" = "bn4j: Apache Maven (to build bn4j) is missing; installing it: $TMP/apt-get install -y maven" ] \
     && grep -q "install -y -q maven" "$TMP/apt.log" && [ -f "$TMP/jar2/bn4j.jar" ]; then
    ok "no Maven, root: '$first', built and ran"
  else
    bad "no Maven, root: rc $rc, got '$out'"
  fi
  rm -f "$BIN/mvn"
fi

# 3. Data missing, installing forbidden: one line naming the command.
mkdir -p "$TMP/empty"
out="$(env -u BN4J_DATA BN4J_DEBIAN_DATA="$TMP/empty" BN4J_APT_GET=none "$ROOT/bn4j" train --model mlp --steps 1 \
       --batch-size 8 --no-progress --out "$TMP/run1" 2>&1)"; rc=$?
lines="$(printf '%s\n' "$out" | grep -v '^WARNING: Using incubator' | grep -c .)"
if [ $rc != 0 ] && [ "$lines" = 1 ] && printf '%s' "$out" | grep -q "sudo apt-get install dataset-fashion-mnist"; then
  ok "no data, may not install: '$(printf '%s\n' "$out" | grep -v "^WARNING")'"
else
  bad "no data, may not install: rc $rc, got '$out'"
fi

# 4. Data missing, installing allowed (root): one line saying so, then the command trains.
if $root && { [ -e "$DATA_SRC/train-images-idx3-ubyte.gz" ] || [ -e "$DATA_SRC/train-images-idx3-ubyte" ]; }; then
  out="$(env -u BN4J_DATA BN4J_DEBIAN_DATA="$TMP/debian-data" BN4J_APT_GET="$TMP/apt-get" "$ROOT/bn4j" train --model mlp \
         --steps 1 --batch-size 8 --validation 100 --no-progress --out "$TMP/run2" 2>&1)"; rc=$?
  if [ $rc = 0 ] && printf '%s\n' "$out" | grep -qx "bn4j: Fashion-MNIST ($TMP/debian-data has no IDX files) is missing; installing it: $TMP/apt-get install -y dataset-fashion-mnist" \
     && grep -q "install -y -q dataset-fashion-mnist" "$TMP/apt.log"; then
    ok "no data, root: installed and trained"
  else
    bad "no data, root: rc $rc, got '$out'"
  fi
elif $root; then
  bad "no data, root: the real Fashion-MNIST files are not at $DATA_SRC to stand in for the install"
fi
echo "setup checks: $pass passed, $fail failed"
[ $fail = 0 ]
