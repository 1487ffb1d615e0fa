#!/usr/bin/env bash
# Demo of the daemon's main job on this machine, with the real clock left
# alone: ntpd serves time on loopback inside a private user+network
# namespace (--no-clock-control), and an NTP client queries it every two
# seconds. Run as root; stops by itself after DEMO_SECONDS (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target ntpd ntpd-net ntpd-nsrun ntp-probe
seconds=${DEMO_SECONDS:-20}
work=$(mktemp -d /tmp/ntpd-demo.XXXXXX)
mkdir -m 0755 "$work/jail"
echo "=== starting ntpd (log: $work/ntpd.log)"
build/bin/ntpd-nsrun build/bin/ntpd -n -d -c packaging/demo/server.conf \
  --no-clock-control -u nobody:nogroup -i "$work/jail" -l "$work/ntpd.log" \
  -f "$work/ntp.drift" -p "$work/ntpd.pid" >"$work/nsrun.pid" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null; rm -rf "$work"' EXIT
sleep 1
pid=$(head -1 "$work/nsrun.pid")
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
  build/bin/ntp-probe --netns-pid "$pid" --timeout 1000 127.0.0.1 || true
  sleep 2
done
echo "=== ntpd log"
cat "$work/ntpd.log"
