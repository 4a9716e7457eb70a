#!/usr/bin/env bash
# Where Turnpike's CPU goes at one steady rate, in issue 12's setting (relay pinned to CPU 1, load generator to
# CPU 0, a source address per client). A profiling run, separate from side-by-side.sh because perf itself costs
# CPU. Writes to $OUT:
#   syscalls.txt     perf stat of every syscall the relay made in the window, per relayed datagram
#   counters.txt     the relay's own counters over the same window (datagrams, loop iterations, per wakeup)
#   threads.txt      CPU per relayed datagram over the same window by thread (user and kernel): the loop's, and
#                    what else a process spends (a JVM's compiler, GC and service threads; /metrics)
#   profile.folded   perf record -g of the relay in a second window, stacks folded (JIT frames named)
#   flamegraph.svg   the same as a flame graph (benchmarks' FlameGraph)
#
#   benchmarks/profile.sh                     # 20,000 round trips/s, 8 s windows
#   RATE=40000 WINDOW=8 benchmarks/profile.sh
#   EXTRA="--benchmark-plain-receive" benchmarks/profile.sh   # any extra relay flags, e.g. a lever off
#   SERVER=c-floor benchmarks/profile.sh      # the same for the C floor, the Java floor or coturn-m1 (no loop counters then)
#
# Needs: a JDK 25, perf (apt-get install linux-perf), taskset; gcc for c-floor, coturn for coturn-m1.
# Traffic stays on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER=${SERVER:-turnpike}
RATE=${RATE:-20000}
WINDOW=${WINDOW:-8}
ALLOCATIONS=${ALLOCATIONS:-100}
EXTRA=${EXTRA:-}
OUT=${OUT:-benchmarks/target/profile-$(date -u +%Y%m%dT%H%M%SZ)}
PORT=3478
METRICS=http://127.0.0.1:9641/metrics

. benchmarks/lib.sh
command -v perf >/dev/null || { echo "profile: perf not found (apt-get install linux-perf)" >&2; exit 1; }
use_jdk25_and_jars
mkdir -p "$OUT"

case "$SERVER" in
  turnpike)
    # -XX:+PreserveFramePointer: perf can walk JIT-compiled frames; the perf map names them (written at exit)
    # shellcheck disable=SC2086
    taskset -c 1 "$JAVA" -XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit \
      -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --relay-ports 50000-59999 \
      --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8 \
      --user-quota 0 --client-quota 0 --challenge-rate 0 --max-bps 0 --max-connections 1000 --drain-timeout 0 \
      --metrics-listen 127.0.0.1:9641 $EXTRA > "$OUT/turnpike.log" 2>&1 & ;;
  c-floor)
    gcc -O2 -Wall -Wextra -Werror -o benchmarks/target/c-floor benchmarks/c-floor/floor.c
    taskset -c 1 benchmarks/target/c-floor 127.0.0.1 $PORT 127.0.0.1 > "$OUT/c-floor.log" 2>&1 & ;;
  java-floor)
    taskset -c 1 "$JAVA" -XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit \
      -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.floors.JavaFloor 127.0.0.1 $PORT 127.0.0.1 \
      > "$OUT/java-floor.log" 2>&1 & ;;
  coturn-m1)
    taskset -c 1 turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --relay-ip 127.0.0.1 \
      --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland --lt-cred-mech \
      --allow-loopback-peers --no-tls --no-dtls --log-file stdout -m 1 > "$OUT/coturn-m1.log" 2>&1 & ;;
  *) echo "profile: SERVER is turnpike, c-floor, java-floor or coturn-m1" >&2; exit 2 ;;
esac
RELAY=$!
GENERATOR=
cleanup() {
  [ -n "$GENERATOR" ] && kill "$GENERATOR" 2>/dev/null || true
  kill -TERM "$RELAY" 2>/dev/null || true
  wait "$RELAY" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.2; done

# one long fixed phase: 10 s of warm-up, then the two windows (and a margin) while the rate holds
taskset -c 0 "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator \
  --server 127.0.0.1:$PORT --pid "$RELAY" --label profile --allocations "$ALLOCATIONS" --many-sources \
  --rates "$RATE" --initial-warmup-seconds 10 --warmup-seconds 0 --seconds $((2 * WINDOW + 10)) \
  > "$OUT/generator.log" 2>&1 &
GENERATOR=$!
# set-up (allocations, permissions, channels) and the warm-up
for _ in $(seq 1 300); do grep -q 'set up in' "$OUT/generator.log" 2>/dev/null && break; sleep 0.1; done
sleep 13

# the relay's own counters: Turnpike's /metrics; the others have none (0)
counter() {
  if [ "$SERVER" = turnpike ]; then curl -s "$METRICS" | awk -v name="$1" '$1 == name { print $2 }'; else echo 0; fi
}
# per thread: name, user and system clock ticks so far (/proc/PID/task/TID/stat fields 14 and 15; the name
# may hold spaces, so fields are counted from its closing parenthesis)
thread_ticks() {
  for stat in /proc/"$RELAY"/task/*/stat; do
    awk '{ line = $0; lp = index(line, "("); rp = 0
           for (i = length(line); i > 0; i--) if (substr(line, i, 1) == ")") { rp = i; break }
           name = substr(line, lp + 1, rp - lp - 1); gsub(/ /, "_", name)
           split(substr(line, rp + 2), f, " "); print FILENAME, name, f[12], f[13] }' "$stat" 2>/dev/null || true
  done
}
received0=$(counter turnpike_datagrams_received_total); sent0=$(counter turnpike_datagrams_sent_total)
iterations0=$(counter turnpike_loop_iterations_total)
# after the scrapes, not around them: rendering /metrics is not what a relayed datagram costs
thread_ticks > "$OUT/threads.before"
# a few tracepoints, not all of them: each one enabled slows every syscall the relay makes
perf stat -e raw_syscalls:sys_enter -e 'syscalls:sys_enter_epoll_wait' -e 'syscalls:sys_enter_recvmmsg' \
  -e 'syscalls:sys_enter_recvfrom' -e 'syscalls:sys_enter_sendto' -e 'syscalls:sys_enter_sendmmsg' \
  -e 'syscalls:sys_enter_sendmsg' -e 'syscalls:sys_enter_futex' -p "$RELAY" -- sleep "$WINDOW" 2> "$OUT/perf-stat.txt" >/dev/null
thread_ticks > "$OUT/threads.after"
received1=$(counter turnpike_datagrams_received_total); sent1=$(counter turnpike_datagrams_sent_total)
iterations1=$(counter turnpike_loop_iterations_total)
# the generator holds the rate, so the window's datagrams are known: a client's and its peer's echo per round
# trip (the relay's own counters are published once a second, so their window blurs by up to a second)
relayed=$((2 * RATE * WINDOW))
{
  echo "server: $SERVER, rate: $RATE round trips/s, window: $WINDOW s, allocations: $ALLOCATIONS, extra: ${EXTRA:-none}"
  echo "turnpike: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "datagrams received (2 x rate x window): $relayed"
  if [ "$SERVER" = turnpike ]; then
    echo "relay's counters over the window (+-1 s): received $((received1 - received0)), sent $((sent1 - sent0)), loop iterations $((iterations1 - iterations0))"
    awk 'BEGIN { printf "datagrams per loop iteration (relay counters): %.2f\n", '"$((received1 - received0))"' / '"$((iterations1 - iterations0))"' }'
  fi
} > "$OUT/counters.txt"
# CPU by thread over the window, in µs per relayed datagram (a tick is 1/CLK_TCK s; threads grouped by name)
ticks=$(getconf CLK_TCK)
awk -v hz="$ticks" -v relayed="$relayed" '
  FNR == NR { user0[$1] = $3; sys0[$1] = $4; next }
  { name = $2; sub(/[0-9]+$/, "", name); du = $3 - user0[$1]; ds = $4 - sys0[$1]
    user[name] += du; sys[name] += ds; tu += du; ts += ds }
  END {
    printf "%-24s %10s %10s %10s\n", "thread", "user us", "kernel us", "share"
    for (n in user) if (user[n] + sys[n] > 0)
      printf "%-24s %10.2f %10.2f %9.1f%%\n", n, user[n] / hz * 1e6 / relayed, sys[n] / hz * 1e6 / relayed, 100 * (user[n] + sys[n]) / (tu + ts)
    printf "%-24s %10.2f %10.2f %9.1f%%\n", "all", tu / hz * 1e6 / relayed, ts / hz * 1e6 / relayed, 100
  }' "$OUT/threads.before" "$OUT/threads.after" | { read -r header; echo "$header"; sort -k4 -rn; } > "$OUT/threads.txt"
rm -f "$OUT/threads.before" "$OUT/threads.after"
awk -v n="$relayed" '/sys_enter/ { gsub(/,/, "", $1); if ($1 + 0 > 0) {
    name = $2; sub(/^raw_syscalls:sys_enter$/, "all syscalls", name); sub(/^syscalls:sys_enter_/, "", name)
    printf "%-16s %10d  %.3f per datagram received\n", name, $1, $1 / n } }' "$OUT/perf-stat.txt" \
  | sort -k2 -n -r > "$OUT/syscalls.txt"

perf record -F 1999 -g -p "$RELAY" -o "$OUT/perf.data" -- sleep "$WINDOW" 2> "$OUT/perf-record.log" >/dev/null
wait "$GENERATOR" || true
GENERATOR=
kill -TERM "$RELAY"; wait "$RELAY" 2>/dev/null || true   # writes /tmp/perf-PID.map
perf script -i "$OUT/perf.data" 2>/dev/null > "$OUT/perf.script"
"$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.reports.FlameGraph \
  --title "$SERVER at $RATE round trips/s ($(git rev-parse --short HEAD 2>/dev/null))" \
  "$OUT/perf.script" "$OUT/profile.folded" "$OUT/flamegraph.svg"
rm -f "$OUT/perf.data" "$OUT/perf.script"
cat "$OUT/counters.txt" "$OUT/syscalls.txt" "$OUT/threads.txt"
grep -h '"phase":"fixed"' "$OUT/generator.log" | head -n 1 || true
echo "profile in $OUT"
