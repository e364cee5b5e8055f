# Sourced by ./bn4j: installs a missing Debian package when this process may (root with apt-get), saying so in one
# line; otherwise prints the one line with the exact command to run. BN4J_APT_GET overrides the apt-get command
# (tools/check-setup.sh uses a stand-in); BN4J_APT_GET=none forbids installing.
bn4j_apt_install() {
  local pkg="$1" what="$2" apt="${BN4J_APT_GET:-apt-get}"
  if [ "$apt" != none ] && [ "$(id -u)" = 0 ] && command -v "$apt" >/dev/null 2>&1; then
    echo "bn4j: $what is missing; installing it: $apt install -y $pkg" >&2
    if DEBIAN_FRONTEND=noninteractive "$apt" install -y -q "$pkg" >/dev/null 2>&1 \
       || { "$apt" update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive "$apt" install -y -q "$pkg" >/dev/null 2>&1; }; then
      hash -r
      return 0
    fi
    echo "bn4j: could not install $pkg with $apt; run: sudo apt-get update && sudo apt-get install $pkg" >&2
    return 1
  fi
  echo "bn4j: $what is missing; install it with: sudo apt-get install $pkg" >&2
  return 1
}
