#!/usr/bin/env bash
# Installs what Dhrishti needs and builds everything; skips what is already there.
# Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make g++ python3 iproute2 iptables
  docker.io docker-compose wrk bpftrace chromium prometheus prometheus-alertmanager
  postgresql mariadb-server mariadb-client redis-server redis-tools nginx-light curl openssl
  dnsmasq-base unbound musl-tools)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies (lock file first; a stamp avoids re-running on every start)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.dhrishti-stamp ] || [ package.json -nt node_modules/.dhrishti-stamp ]; then
  echo "setup: installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch node_modules/.dhrishti-stamp
fi

bash scripts/build.sh
