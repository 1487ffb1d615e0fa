#!/usr/bin/env bash
# Fetches the real NTP daemons the interop tests run against, without
# installing them: `apt-get download` Debian 12's chrony, ntpsec,
# ntpsec-ntpdig and python3-ntp into CACHE_DIR/debs and `dpkg -x` each into
# CACHE_DIR/root. Idempotent (a package already extracted is skipped).
# Usage: scripts/fetch-peers.sh CACHE_DIR   (e.g. build/peers); prints where
# the binaries are. Needs apt-get (and `apt-get update` done once).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
mkdir -p "$1"
cache=$(cd "$1" && pwd)
packages=(chrony ntpsec ntpsec-ntpdig python3-ntp)
mkdir -p "$cache/debs" "$cache/root"
for package in "${packages[@]}"; do
  stamp="$cache/.extracted-$package"
  [ -f "$stamp" ] && continue
  (cd "$cache/debs" && rm -f "${package}"_*.deb && apt-get download -q -o APT::Sandbox::User=root "$package" >/dev/null) || {
    # A stale package list (fresh machine): refresh once and retry.
    apt-get update -q >/dev/null
    (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$package" >/dev/null)
  }
  dpkg -x "$cache/debs/${package}"_*.deb "$cache/root"
  touch "$stamp"
done
python_dir="$cache/root/usr/lib/python3/dist-packages"
# ntp/ntpc.py looks for libntpc.so beside itself before the system paths;
# point it at the extracted library so ntpdig runs with only PYTHONPATH set.
ntpc=$(find "$cache/root/usr/lib" -path '*/ntp/libntpc.so.1' | head -1)
[ -n "$ntpc" ] && ln -sfn "$ntpc" "$python_dir/ntp/libntpc.so"
for program in usr/sbin/chronyd usr/sbin/ntpd usr/bin/ntpdig; do
  [ -x "$cache/root/$program" ] || { echo "missing $cache/root/$program" >&2; exit 1; }
done
echo "chronyd:    $cache/root/usr/sbin/chronyd"
echo "ntpd:       $cache/root/usr/sbin/ntpd (ntpsec)"
echo "ntpdig:     $cache/root/usr/bin/ntpdig (PYTHONPATH=$python_dir)"
echo "NTPD_INTEROP_PEERS=$cache"
