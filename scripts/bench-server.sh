#!/bin/sh
# Server benchmark (issue 4): our ntpd and Debian's chronyd serving on the
# same machine in the same run, each in turn pinned to CPU 0, the load
# generator (build/bin/ntp-load) pinned to CPU 1, all inside a private
# user+network namespace (build/bin/ntpd-nsrun): loopback only, the host's
# clock untouched (ntpd --no-clock-control, chronyd -x).
#
# For each server: the highest rate served with 0 % loss (doubling, then a
# bisection), loss and latency at twice that rate (overload), and the
# server's CPU time per reply from /proc/PID/stat (utime+stime of every
# server process) at the 0 %-loss rate; then CPU per reply and latency at
# the same offered rates for every server (10000, 30000, 60000/s, each for
# two steps). Prints two Markdown tables.
#
# usage: scripts/bench-server.sh [--build DIR] [--peers DIR] [--step-ms MS]
#                                [--server-threads N] [--sources N] [--smoke]
#   --smoke: ours only, 500 requests/s for 2 s; exit 0 iff none was lost.
# Needs real root (for the namespace's uid map); exits 77 otherwise.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
peers="${NTPD_INTEROP_PEERS:-/work/main/build/peers}"
step_ms=2000
threads=1
sources=0
common_rates="10000 30000 60000"
smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --step-ms) step_ms=$2; shift 2 ;;
    --server-threads) threads=$2; shift 2 ;;
    --sources) sources=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    *) echo "bench-server.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
case "$step_ms" in *[!0-9]*|'') echo "bad --step-ms" >&2; exit 2 ;; esac
[ "$step_ms" -ge 500 ] && [ "$step_ms" -le 10000 ] || { echo "--step-ms: 500..10000" >&2; exit 2; }

if [ "${BENCH_INSIDE:-0}" != 1 ]; then
  if [ "$(id -u)" != 0 ]; then echo "bench-server.sh: needs root (namespaces)" >&2; exit 77; fi
  # ntpd-nsrun prints the pid it started first: keep only what follows.
  out=$(mktemp /tmp/ntpd-bench-out.XXXXXX)
  status=0
  env BENCH_INSIDE=1 "$build/bin/ntpd-nsrun" /bin/sh "$0" --build "$build" \
    --peers "$peers" --step-ms "$step_ms" --server-threads "$threads" --sources "$sources" \
    $([ "$smoke" = 1 ] && echo --smoke) >"$out" || status=$?
  tail -n +2 "$out"
  rm -f "$out"
  exit $status
fi

# ---- inside the namespace from here on ----
work=$(mktemp -d /tmp/ntpd-bench.XXXXXX)
server_pids=""
cleanup() {
  for p in $server_pids; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in $server_pids; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

field() { printf '%s\n' "$1" | sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p"; }

# load RATE MS: one ntp-load run on CPU 1; prints its JSON.
load() {
  taskset -c 1 "$build/bin/ntp-load" --rate "$1" --duration-ms "$2" --drain-ms 500 \
    --sockets 256 --sources "$sources"
}

# CPU ticks of the given processes (all their threads): "utime stime".
cpu_ticks() {
  u=0 k=0
  for p in "$@"; do
    set -- $(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo 0 0)
    u=$((u + $1)) k=$((k + $2))
  done
  echo "$u $k"
}

wait_answering() {
  i=0
  while [ $i -lt 50 ]; do
    r=$(taskset -c 1 "$build/bin/ntp-load" --rate 20 --duration-ms 200 --drain-ms 200 --sockets 1)
    [ "$(field "$r" received)" != 0 ] && return 0
    sleep 0.2
    i=$((i + 1))
  done
  echo "server never answered" >&2
  return 1
}

start_ours() {
  mkdir -p "$work/jail" && chmod 755 "$work/jail"
  printf 'server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n' >"$work/ntp.conf"
  taskset -c 0 "$build/bin/ntpd" -n -c "$work/ntp.conf" --no-clock-control -u nobody:nogroup \
    -i "$work/jail" -l "$work/ntpd.log" -p "$work/ntpd.pid" --server-threads "$threads" \
    >"$work/ntpd.out" 2>&1 &
  clock=$!
  wait_answering
  net=$(cat "/proc/$clock/task/$clock/children")
  server_pids="$clock $net"
}

start_chronyd() {
  cat >"$work/chrony.conf" <<CONF
local stratum 10
allow all
port 123
cmdport 0
bindcmdaddress /
pidfile $work/chronyd.pid
CONF
  taskset -c 0 "$peers/root/usr/sbin/chronyd" -x -d -u root -f "$work/chrony.conf" \
    >"$work/chronyd.out" 2>&1 &
  server_pids=$!
  wait_answering
}

stop_server() {
  for p in $server_pids; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in $server_pids; do kill -9 "$p" 2>/dev/null || true; done
  server_pids=""
  sleep 0.3
}

# measure RATE [MS]: sets m_json, m_cpu (ticks spent by the server meanwhile).
measure() {
  ms=${2:-$step_ms}
  echo "  $name: $1 requests/s for $ms ms" >&2
  set -- "$1" $(cpu_ticks $server_pids)
  m_json=$(load "$1" "$ms")
  set -- "$@" $(cpu_ticks $server_pids)
  m_user=$(($4 - $2)) m_sys=$(($5 - $3))
  m_cpu=$((m_user + m_sys))
}

# per_reply TICKS JSON: microseconds of CPU per reply received.
per_reply() {
  awk -v t="$1" -v h="$(getconf CLK_TCK)" -v n="$(field "$2" received)" \
    'BEGIN { if (n > 0) printf "%.2f", t / h * 1e6 / n; else printf "-" }'
}

lossless() { [ "$(field "$1" received)" = "$(field "$1" sent)" ]; }

# sweep NAME: CPU per reply and latency at each common rate (the same
# offered load for every server: compared like for like, since wakeups per
# reply depend on the rate), two steps each. Rows go to sweep.md.
sweep() {
  name=$1
  for r in $common_rates; do
    measure "$r" $((step_ms * 2))
    echo "| $name | $r | $(per_reply "$m_cpu" "$m_json") | $(field "$m_json" p50)/$(field "$m_json" p99) | $(awk -v l="$(field "$m_json" loss)" 'BEGIN { printf "%.1f", l * 100 }') % |" >>"$work/sweep.md"
    echo "$name at $r/s ($m_user user + $m_sys system ticks): $m_json" >>"$work/raw.txt"
  done
}

# bench NAME: the search and the overload run for the running server.
bench() {
  name=$1
  good=0 good_json="" good_cpu=0 bad=0 m_json=""
  rate=20000
  while [ $rate -le 1600000 ]; do
    measure $rate
    if lossless "$m_json"; then good=$rate good_json=$m_json good_cpu="$m_user $m_sys"; rate=$((rate * 2))
    else bad=$rate; break; fi
  done
  if [ $bad -gt 0 ]; then
    for _ in 1 2 3 4; do
      mid=$(((good + bad) / 2))
      [ $((bad - good)) -le $((good / 16 + 1)) ] && break
      measure $mid
      if lossless "$m_json"; then good=$mid good_json=$m_json good_cpu="$m_user $m_sys"; else bad=$mid; fi
    done
  fi
  if [ $good -eq 0 ]; then echo "| $name | lost requests even at 20000/s | | | | | | | |"; return; fi
  measure $((good * 2))
  over_json=$m_json
  over_loss=$(awk -v l="$(field "$over_json" loss)" 'BEGIN { printf "%.1f", l * 100 }')
  served=$(awk -v n="$(field "$over_json" received)" -v ms="$step_ms" \
    'BEGIN { printf "%d", n * 1000 / ms }')
  # A generator more than 5 % of a step behind its schedule measured itself.
  if [ "$(field "$over_json" max_send_lag_us)" -gt $((step_ms * 50)) ]; then
    served="$served (generator-bound)"
  fi
  echo "| $name | $good | $(per_reply "$(echo $good_cpu | awk '{print $1 + $2}')" "$good_json") | $((good * 2)) | $served | $over_loss % | $(per_reply "$m_cpu" "$over_json") | $(field "$good_json" p50)/$(field "$good_json" p99) | $(field "$over_json" p50)/$(field "$over_json" p90)/$(field "$over_json" p99)/$(field "$over_json" max) |"
  echo "$name max-lossless (user system ticks: $good_cpu): $good_json" >>"$work/raw.txt"
  echo "$name overload ($m_user user + $m_sys system ticks): $over_json" >>"$work/raw.txt"
}

if [ "$smoke" = 1 ]; then
  start_ours
  r=$(load 500 2000)
  echo "$r"
  stop_server
  lossless "$r" && [ "$(field "$r" invalid)" = 0 ] && [ "$(field "$r" sent)" = 1000 ]
  exit $?
fi

echo "| server (CPU 0) | max rate at 0 % loss (req/s) | CPU/reply there (us) | overload offered (req/s) | served at overload (replies/s) | loss at overload | CPU/reply at overload (us) | latency p50/p99 at max (us) | latency p50/p90/p99/max at overload (us) |"
echo "|---|---|---|---|---|---|---|---|---|"
start_ours
sweep "ours, $threads serving thread(s)"
bench "ours, $threads serving thread(s)"
stop_server
if [ -x "$peers/root/usr/sbin/chronyd" ]; then
  start_chronyd
  chronyd_name="chronyd $("$peers/root/usr/sbin/chronyd" -v | awk '{print $4}')"
  sweep "$chronyd_name"
  bench "$chronyd_name"
  stop_server
else
  echo "| chronyd | not found under $peers | | | | | | | |"
fi
echo
echo "| server (CPU 0) | offered (req/s) | CPU/reply (us) | latency p50/p99 (us) | loss |"
echo "|---|---|---|---|---|"
cat "$work/sweep.md"
echo
echo "CPU: utime+stime of the server's processes from /proc/PID/stat over each step;"
echo "load: build/bin/ntp-load, 256 sockets, $sources extra source addresses, $step_ms ms per step."
cat "$work/raw.txt"
