#!/usr/bin/env bash
# Turnpike and coturn on this machine, in the same run, alternating servers each round (A B C A B C ...), each
# measured by the same load generator on loopback. Writes results.jsonl and report.md (medians and ratios) to
# $OUT. Long: about 2 minutes per server per round.
#
# The default setting is issue 12's: the relay pinned to CPU 1 and the load generator to CPU 0 (taskset), so
# that neither steals the other's core, and each of the 100 clients on a source address of its own
# (127.100.X.Y), as real clients are.
#
#   benchmarks/side-by-side.sh                      # 3 rounds at 10k, 20k and 40k round trips/s, then saturation
#   ROUNDS=5 RATES=10000,20000 SATURATE=0 benchmarks/side-by-side.sh
#   SERVERS="turnpike turnpike-plain coturn-m1" benchmarks/side-by-side.sh   # a lever's effect: with and without
#   TRANSPORT=tls SERVERS="turnpike coturn-m1" SATURATE=0 benchmarks/side-by-side.sh   # clients over TCP or TLS
#   PIN=0 MANY_SOURCES=0 benchmarks/side-by-side.sh   # the setting before 2026-11-30: unpinned, one source IP
#   BURST=32 benchmarks/side-by-side.sh               # the generator sends in bursts of 32 instead of evenly
#   SATURATE_GENERATOR=default benchmarks/side-by-side.sh   # the search with the default generator (stops on it)
#   ALT_JAR=/tmp/before.jar SERVERS="turnpike turnpike-alt" SATURATE=0 benchmarks/side-by-side.sh   # a change's A/B
#   METRICS=1 SATURATE=0 benchmarks/side-by-side.sh   # with Turnpike's datagrams per loop wake-up, from /metrics
#   PIN=0 SERVERS="turnpike turnpike-w2 coturn-m1 coturn-m2" benchmarks/side-by-side.sh   # one worker and two
#   TRANSPORT=tcp RELAY_CPU_QUOTA=50 STREAM_SATURATE_START=20000 SERVERS="turnpike coturn-m1" benchmarks/side-by-side.sh
#                                                     # saturation over TCP with each relay capped at half a CPU
#
# Servers: turnpike (as shipped), turnpike-w2 (--workers 2), turnpike-alt (as turnpike, from $ALT_JAR),
# turnpike-nodscp (--no-dscp-preserve: what keeping DSCP and ECN costs), turnpike-plain (one datagram per receive call, no
# recvmmsg), turnpike-drop (drops when a send buffer is full: benchmark-only), coturn-m1 (turnserver -m 1),
# coturn-m2 (-m 2), coturn-default (coturn's thread per CPU), c-floor (benchmarks/c-floor/floor.c: the data path alone in C, one packet per syscall; not a
# TURN server), java-floor (JavaFloor.java: floor.c line for line in Java, with the JDK's NIO; not a TURN server).
#
# Needs: a JDK 25, coturn (apt-get install coturn), gcc for c-floor, taskset. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
RATES=${RATES:-10000,20000,40000}
MEASURE_SECONDS=${MEASURE_SECONDS:-10}
ALLOCATIONS=${ALLOCATIONS:-100}
SATURATE=${SATURATE:-1}
SERVERS=${SERVERS:-"turnpike coturn-m1 c-floor java-floor"}
# udp, tcp or tls: how the load generator's clients reach the relay (the relayed side is UDP in every case)
TRANSPORT=${TRANSPORT:-udp}
# 1: the relay pinned to CPU 1 and the load generator to CPU 0 (taskset), so that neither steals the other's core
PIN=${PIN:-1}
# 1: each load-generator client on a source address of its own (127.100.X.Y), as real clients are
MANY_SOURCES=${MANY_SOURCES:-1}
# N > 0: the generator sends in bursts of N packets at the same average rate (0: evenly, every 50 us)
BURST=${BURST:-0}
# batched: the saturation search runs with the batched load generator (LoadGenerator --batched: one thread,
# sendmmsg/recvmmsg, each client still on its own address), which costs less per packet than the relay and so can
# outrun it on a CPU of its own; a second generator run after the fixed rates, against the same relay. default:
# the search runs with the fixed rates' generator (before 2026-11-30: there the search stops on the generator).
# The fixed rates always use the default generator: the batched one's arrivals come in the batches of its tick.
# Over TCP or TLS, batched means the echo peer batched on a thread of its own and PER_WRITE messages a write.
SATURATE_GENERATOR=${SATURATE_GENERATOR:-batched}
# over TCP or TLS, the batched search's messages per write (one TLS record): clients that send in bursts, and a
# generator that costs less per message than the relay, so that the search stops on the relay
PER_WRITE=${PER_WRITE:-8}
# N (percent of one CPU): the relay runs in a CPU cgroup of its own capped at N% (CFS quota, 5 ms periods), the
# same cap for every server. The generator on one CPU cannot outrun a relay that has a whole one over TCP or TLS
# (its echo peer's sends carry the kernel's receive work for the relay's sockets); under a cap the relay
# saturates first, and saturation then compares what each relay does with the same CPU. Root and a cgroup v1 cpu
# controller or cgroup v2 only.
RELAY_CPU_QUOTA=${RELAY_CPU_QUOTA:-}
# where that search begins (round trips/s): both relays hold 40,000 over TCP on this machine
STREAM_SATURATE_START=${STREAM_SATURATE_START:-40000}
# 1: the batched generator for the fixed rates too (a trial: its bursts make every relay cheaper per packet)
BATCHED=${BATCHED:-0}
# 0 (the default since 2026-11-30): no metrics endpoint, as coturn and the floors have none (its scrapes at the
# window's edges showed in Turnpike's RTT p99 at 10,000); 1: Turnpike serves /metrics and the generator reads its
# datagrams per wake-up there
METRICS=${METRICS:-0}
TURNPIKE_METRICS=(); [ "$METRICS" = 1 ] && TURNPIKE_METRICS=(--metrics-listen 127.0.0.1:9641)
RELAY_PIN=(); GENERATOR_PIN=()
if [ "$PIN" = 1 ]; then
  command -v taskset >/dev/null || { echo "side-by-side: taskset not found (apt-get install util-linux), or PIN=0" >&2; exit 1; }
  [ "$(nproc)" -ge 2 ] || { echo "side-by-side: PIN=1 needs 2 CPUs; this machine has $(nproc) (PIN=0)" >&2; exit 1; }
  RELAY_PIN=(taskset -c 1); GENERATOR_PIN=(taskset -c 0)
fi
OUT=${OUT:-benchmarks/target/side-by-side-$(date -u +%Y%m%dT%H%M%SZ)}
PORT=3478
TLS_PORT=5349
SERVER_PORT=$PORT; [ "$TRANSPORT" = tls ] && SERVER_PORT=$TLS_PORT

. benchmarks/lib.sh
command -v turnserver >/dev/null || { echo "side-by-side: turnserver not found (apt-get install coturn)" >&2; exit 1; }
use_jdk25_and_jars
if [[ " $SERVERS " == *" c-floor "* ]]; then
  command -v gcc >/dev/null || { echo "side-by-side: gcc not found for c-floor (apt-get install gcc)" >&2; exit 1; }
  mkdir -p benchmarks/target
  gcc -O2 -Wall -Wextra -Werror -o benchmarks/target/c-floor benchmarks/c-floor/floor.c
fi
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
if [ "$TRANSPORT" = tls ]; then
  # a certificate for this run (never checked in): the same for both servers
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$OUT/key.pem" \
    -out "$OUT/cert.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
fi
TURNPIKE_STREAMS=(); COTURN_TLS=(--no-tls)
case "$TRANSPORT" in
  tcp) TURNPIKE_STREAMS=(--listen-tcp 127.0.0.1:$PORT) ;;
  tls) TURNPIKE_STREAMS=(--listen-tls 127.0.0.1:$TLS_PORT --tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem")
       COTURN_TLS=(--tls-listening-port $TLS_PORT --cert "$OUT/cert.pem" --pkey "$OUT/key.pem") ;;
esac

# Every client allocates as alice from 127.0.0.1, and coturn has no such limits by default: measure both on
# the same footing, with Turnpike's per-user, per-IP, 401-rate and bandwidth limits off.
LIMITS_OFF=(--user-quota 0 --client-quota 0 --challenge-rate 0 --max-bps 0)

start_server() {
  case "$1" in
    turnpike|turnpike-plain|turnpike-drop|turnpike-w2|turnpike-alt|turnpike-nodscp)
      jar=relay-daemon/target/turnpike.jar
      [ "$1" = turnpike-alt ] && jar=${ALT_JAR:?"turnpike-alt runs \$ALT_JAR, another build's turnpike.jar"}
      variant=(); [ "$1" = turnpike-plain ] && variant=(--benchmark-plain-receive)
      [ "$1" = turnpike-drop ] && variant=(--benchmark-drop-when-full)
      [ "$1" = turnpike-w2 ] && variant=(--workers 2)
      [ "$1" = turnpike-nodscp ] && variant=(--no-dscp-preserve)
      "${RELAY_PIN[@]}" "$JAVA" -jar "$jar" --listen 127.0.0.1:$PORT --relay-ports 50000-59999 \
        --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8 "${LIMITS_OFF[@]}" "${variant[@]}" \
        "${TURNPIKE_STREAMS[@]}" --connections-per-ip 0 --max-connections 1000 --drain-timeout 0 \
        "${TURNPIKE_METRICS[@]}" > "$OUT/$1.log" 2>&1 & ;;
    coturn-m1|coturn-m2|coturn-default)
      threads=(); [ "$1" = coturn-m1 ] && threads=(-m 1); [ "$1" = coturn-m2 ] && threads=(-m 2)
      "${RELAY_PIN[@]}" turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --relay-ip 127.0.0.1 \
        --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland --lt-cred-mech \
        --allow-loopback-peers "${COTURN_TLS[@]}" --no-dtls --log-file stdout "${threads[@]}" > "$OUT/$1.log" 2>&1 & ;;
    c-floor)
      "${RELAY_PIN[@]}" benchmarks/target/c-floor 127.0.0.1 $PORT 127.0.0.1 > "$OUT/$1.log" 2>&1 & ;;
    java-floor)
      "${RELAY_PIN[@]}" "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.floors.JavaFloor 127.0.0.1 $PORT \
        127.0.0.1 > "$OUT/$1.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  # ready when something listens on the port (at most 20 s)
  for _ in $(seq 1 100); do
    if [ "$TRANSPORT" = udp ]; then ss -uln | grep -q "127.0.0.1:$PORT " && return 0
    else ss -tln | grep -q "127.0.0.1:$SERVER_PORT " && return 0; fi
    sleep 0.2
  done
  echo "side-by-side: $1 did not start" >&2; cat "$OUT/$1.log" >&2; exit 1
}

# puts the relay's process in a cgroup capped at RELAY_CPU_QUOTA% of a CPU
cap_relay() {
  [ -n "$RELAY_CPU_QUOTA" ] || return 0
  local quota=$((RELAY_CPU_QUOTA * 50))
  if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    CAP_CGROUP=/sys/fs/cgroup/cpu/turnpike-bench-$$
    mkdir -p "$CAP_CGROUP"
    echo 5000 > "$CAP_CGROUP/cpu.cfs_period_us"; echo "$quota" > "$CAP_CGROUP/cpu.cfs_quota_us"
  elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    CAP_CGROUP=/sys/fs/cgroup/turnpike-bench-$$
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    mkdir -p "$CAP_CGROUP"
    echo "$quota 5000" > "$CAP_CGROUP/cpu.max"
  else
    echo "side-by-side: RELAY_CPU_QUOTA needs a cgroup cpu controller" >&2; exit 1
  fi
  echo "$SERVER_PID" > "$CAP_CGROUP/cgroup.procs"
}
CAP_CGROUP=""

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$CAP_CGROUP" ] && rmdir "$CAP_CGROUP" 2>/dev/null || true
}
trap stop_server EXIT

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -n 1)"
  echo "coturn: $(dpkg-query -W -f='${Version}' coturn 2>/dev/null || echo unknown)"
  echo "gcc: $(gcc --version 2>/dev/null | head -n 1 || echo none)"
  echo "turnpike: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "transport: $TRANSPORT (clients to the relay; the relayed side is UDP); pinned: $PIN; many sources: $MANY_SOURCES; burst: $BURST; batched generator: $BATCHED, for the saturation search: $SATURATE_GENERATOR (over a stream, $PER_WRITE messages a write); turnpike metrics: $METRICS; relay CPU cap: ${RELAY_CPU_QUOTA:-none}%"
  echo "rounds: $ROUNDS, rates: $RATES, $MEASURE_SECONDS s each after 10 s initial and 3 s per-rate warm-up, $ALLOCATIONS allocations, saturation search: $SATURATE"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    echo "== round $round: $server"
    start_server "$server"
    cap_relay
    saturate=(); [ "$SATURATE" = 1 ] && [ "$SATURATE_GENERATOR" = default ] && saturate=(--saturate)
    sources=(); [ "$MANY_SOURCES" = 1 ] && sources=(--many-sources)
    metrics=(); [[ "$server" == turnpike* && "$METRICS" = 1 ]] && metrics=(--metrics http://127.0.0.1:9641/metrics)
    batched=(); [ "$BATCHED" = 1 ] && batched=(--batched)
    "${GENERATOR_PIN[@]}" "$JAVA" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator \
      --server 127.0.0.1:$SERVER_PORT --transport "$TRANSPORT" --pid "$SERVER_PID" --label "$server" \
      --allocations "$ALLOCATIONS" "${sources[@]}" "${metrics[@]}" --burst "$BURST" "${batched[@]}" \
      --rates "$RATES" --seconds "$MEASURE_SECONDS" "${saturate[@]}" --out "$RESULTS" | grep -v '^{'
    if [ "$SATURATE" = 1 ] && [ "$SATURATE_GENERATOR" = batched ] && [ "$TRANSPORT" = udp ]; then
      # its own 100 allocations, from the same addresses on another port (the first run deleted its own)
      "${GENERATOR_PIN[@]}" "$JAVA" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
        dev.turnpike.benchmarks.generator.LoadGenerator --server 127.0.0.1:$SERVER_PORT --pid "$SERVER_PID" --label "$server" \
        --allocations "$ALLOCATIONS" --many-sources --batched --saturate-only --initial-warmup-seconds 5 \
        --out "$RESULTS" | grep -v '^{'
    fi
    if [ "$SATURATE" = 1 ] && [ "$SATURATE_GENERATOR" = batched ] && [ "$TRANSPORT" != udp ]; then
      # over TCP or TLS: 100 new connections (the first run's ended their allocations), the echo peer batched on
      # a thread of its own, and each write carrying PER_WRITE messages to one connection
      "${GENERATOR_PIN[@]}" "$JAVA" --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
        dev.turnpike.benchmarks.generator.LoadGenerator --server 127.0.0.1:$SERVER_PORT --transport "$TRANSPORT" \
        --pid "$SERVER_PID" --label "$server" --allocations "$ALLOCATIONS" --batched --messages-per-write "$PER_WRITE" \
        --saturate-only --saturate-start "$STREAM_SATURATE_START" --initial-warmup-seconds 5 --out "$RESULTS" \
        | grep -v '^{'
    fi
    stop_server
    sleep 1
  done
done

"$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.reports.Report "$RESULTS" > "$OUT/report.md"
cat "$OUT/report.md"
echo "results in $OUT"
