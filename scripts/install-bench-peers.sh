#!/usr/bin/env bash
# Installs the Debian packages that benchmarks run beside Tributary as peers (docs/BENCHMARKS.md):
#   etcd-server  -> /usr/bin/etcd         (bench/metadata.ts: the controller quorum against etcd 3.4)
#   nats-server  -> /usr/bin/nats-server  (the log against NATS JetStream)
# Idempotent: a package already installed is left alone, and apt-get runs only when one is missing.
# The benchmarks start their own processes on 127.0.0.1 with temporary data directories; the
# packaged services are not needed, and in containers policy-rc.d keeps them from starting.
# Run as root (or through sudo): bash scripts/install-bench-peers.sh
set -euo pipefail

readonly packages=(etcd-server nats-server)

missing=()
for package in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-bench-peers: already installed: ${packages[*]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo bash "$0" "$@"
  fi
  echo "install-bench-peers: missing ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-bench-peers: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
