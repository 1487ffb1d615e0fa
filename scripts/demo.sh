#!/usr/bin/env bash
# Demo of the daemon's main job on this machine, with the real clock left
# alone: inside a private user+network namespace, one ntpd serves time on
# 127.0.0.1 from its local clock (the classic isolated-LAN setup) and a
# second ntpd on 127.0.0.2 synchronizes to it. Both run with
# --no-clock-control. An NTP client queries both every few seconds; watch
# the server become synchronized (stratum 11) and the client follow it
# (stratum 12). Run as root; stops by itself after DEMO_SECONDS (default 90).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target ntpd ntpd-net ntpd-nsrun ntp-probe
seconds=${DEMO_SECONDS:-90}
work=$(mktemp -d /tmp/ntpd-demo.XXXXXX)
mkdir -m 0755 "$work/jail"
common=(--no-clock-control -n -u nobody:nogroup -i "$work/jail")
echo "=== starting a server (127.0.0.1) and a client (127.0.0.2); logs in $work"
build/bin/ntpd-nsrun /bin/sh -c "
  build/bin/ntpd ${common[*]} -c packaging/demo/server.conf -I 127.0.0.1 \
      -l $work/server.log -p $work/server.pid & server=\$!
  build/bin/ntpd ${common[*]} -c packaging/demo/client.conf -I 127.0.0.2 -D 2 \
      -l $work/client.log -p $work/client.pid -f $work/client.drift & client=\$!
  trap 'kill -TERM \$server \$client' TERM INT
  wait" >"$work/nsrun.pid" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1
pid=$(head -1 "$work/nsrun.pid")
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
  printf 'server %s\n' "$(build/bin/ntp-probe --netns-pid "$pid" --timeout 1000 127.0.0.1 || true)"
  printf 'client %s\n' "$(build/bin/ntp-probe --netns-pid "$pid" --timeout 1000 127.0.0.2 || true)"
  sleep 5
done
echo "=== client log (discipline and samples)"
grep -E "CLOCK|SAMPLE|DISCIPLINE|PEER|START" "$work/client.log" | tail -25
