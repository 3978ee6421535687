#!/usr/bin/env bash
# Makes sure the system tools the tests use are present: openssl (throwaway TLS certificates),
# mosquitto (the real MQTT broker of the plugin tests) and chromium (the headless browser of the status page test). As root it installs what is missing with apt-get;
# otherwise it stops and prints the exact command to run.
set -euo pipefail

declare -A package_of=([openssl]=openssl [mosquitto]=mosquitto [chromium]=chromium)
missing=()
for cmd in "${!package_of[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing+=("${package_of[$cmd]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing missing system packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a mosquitto service on port 1883; the tests start their own brokers.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
