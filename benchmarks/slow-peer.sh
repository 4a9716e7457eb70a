#!/usr/bin/env bash
# Head-of-line blocking by a slow peer (issue 11's "measure first"): the extra RTT that clients relaying to fast
# peers see while one allocation's peer sits behind a link slower than its bursts. The slow peer is
# backpressure.sh's: an echo peer in a network namespace behind a veth shaped by tbf. The fast clients relay to
# an echo peer on the host side of that veth (no shaping). Each round runs the fast clients alone, then beside
# the slow allocation, and reports the fast clients' RTT p50/p99 in both, with the relay-side drops.
#
#   sudo benchmarks/slow-peer.sh        # root: it creates a network namespace and a veth pair
#   SLOW_OFFERED=3000 ROUNDS=1 sudo benchmarks/slow-peer.sh   # the slow flow above its link rate for good
#   SLOW_OFFERED=3000 MAX_BPS=16000000 SERVERS=turnpike ROUNDS=1 sudo benchmarks/slow-peer.sh   # ...with a --max-bps cap
#
# Servers: turnpike (as shipped: --suspend flow), turnpike-loop (--suspend loop, the seed's whole-loop
# suspension), turnpike-drop (drops when a send buffer is full: benchmark-only), coturn-m1.
#
# Needs a JDK 25, coturn, iproute2. Traffic stays on this machine (a /30 inside our own namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-20mbit}
QUEUE_MS=${QUEUE_MS:-50}
SLOW_OFFERED=${SLOW_OFFERED:-2000}   # the slow allocation: 16 Mbit/s of 1000-byte payloads on average...
SLOW_BURST=${SLOW_BURST:-200}        # ...in bursts of 200, each above the link rate
FAST_OFFERED=${FAST_OFFERED:-2000}   # the fast clients together, round trips/s of 160-byte payloads
FAST_ALLOCATIONS=${FAST_ALLOCATIONS:-20}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-"turnpike turnpike-loop turnpike-drop coturn-m1"}
SEND_BUFFER=${SEND_BUFFER:-65536}    # as backpressure.sh: below the qdisc's queue, so the socket blocks first
MAX_BPS=${MAX_BPS:-0}                # Turnpike's --max-bps: 0 (none), so that only the link limits the slow flow
OUT=${OUT:-benchmarks/target/slow-peer-$(date -u +%Y%m%dT%H%M%SZ)}
NS=tp-slow-$$
HOST_DEV=tps$$a
PEER_DEV=tps$$b
HOST_IP=10.231.79.1
PEER_IP=10.231.79.2
PEER_PORT=3480
PORT=3478

. benchmarks/lib.sh
use_jdk25_and_jars
mkdir -p "$OUT"

cleanup() {
  [ -n "${FAST_PID:-}" ] && kill "$FAST_PID" 2>/dev/null || true
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null || true
  shaped_peer_down
}
trap cleanup EXIT

shaped_peer_up "$OUT/peer.log"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "slow peer: tbf rate $RATE, queue ${QUEUE_MS} ms; 1 allocation, $SLOW_OFFERED round trips/s of 1000 bytes in bursts of $SLOW_BURST"
  echo "fast peers: $FAST_ALLOCATIONS allocations, $FAST_OFFERED round trips/s of 160 bytes, evenly; Turnpike --send-buffer $SEND_BUFFER"
  echo "turnpike: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); coturn: $(dpkg-query -W -f='${Version}' coturn 2>/dev/null || echo unknown)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"
echo "| server | round | fast clients alone: RTT p50 / p99 | beside the slow peer: RTT p50 / p99 | fast clients' loss beside it | slow allocation's loss | relay-side drops |" > "$OUT/report.md"
echo "|---|---|---|---|---|---|---|" >> "$OUT/report.md"

start_server() {
  case "$1" in
    turnpike|turnpike-loop|turnpike-drop)
      variant=(); [ "$1" = turnpike-drop ] && variant=(--benchmark-drop-when-full)
      [ "$1" = turnpike-loop ] && variant=(--suspend loop)
      "$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --relay-address "$HOST_IP" \
        --send-buffer "$SEND_BUFFER" --relay-ports 50000-59999 --realm example.org --user alice:wonderland \
        --allow-peer 10.231.79.0/30 --max-bps "$MAX_BPS" --user-quota 0 --client-quota 0 --challenge-rate 0 \
        --drain-timeout 0 "${variant[@]}" > "$2" 2>&1 & ;;
    coturn-m1)
      turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --relay-ip "$HOST_IP" \
        --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland --lt-cred-mech \
        --no-tls --no-dtls -m 1 --log-file stdout > "$2" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.2; done
}

stop_server() {
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

# the fast clients: their own echo peer on the host side of the veth, unshaped
fast() {
  "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator --server 127.0.0.1:$PORT \
    --label "$1" --allocations "$FAST_ALLOCATIONS" --peer-ip "$HOST_IP" --rates "$FAST_OFFERED" \
    --initial-warmup-seconds 3 --warmup-seconds 2 --seconds "$SECONDS_EACH" --out "$OUT/results.jsonl" \
    | grep '^{' | tail -n 1
}

field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }

for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    start_server "$server" "$OUT/$server-$round-alone.log"
    alone=$(fast "$server-fast-alone")
    stop_server
    sleep 1
    start_server "$server" "$OUT/$server-$round-beside.log"
    fast "$server-fast-beside" > "$OUT/fast.tmp" &
    FAST_PID=$!
    slow=$("$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator \
      --server 127.0.0.1:$PORT --label "$server-slow" --allocations 1 --peer "$PEER_IP:$PEER_PORT" --payload 1000 \
      --rates "$SLOW_OFFERED" --burst "$SLOW_BURST" --initial-warmup-seconds 3 --warmup-seconds 2 \
      --seconds "$SECONDS_EACH" --out "$OUT/results.jsonl" | grep '^{' | tail -n 1)
    wait "$FAST_PID" || true; FAST_PID=
    beside=$(tail -n 1 "$OUT/fast.tmp")
    stop_server
    log="$OUT/$server-$round-beside.log"
    if [ "$server" = coturn-m1 ]; then
      drops="not counted"
    else
      drops=$(grep -o 'droppedFullBuffer=[0-9]*' "$log" | cut -d= -f2)
      bandwidth=$(grep -o 'droppedBANDWIDTH=[0-9]*' "$log" | cut -d= -f2)
      shed=$(grep -o 'droppedShed=[0-9]*' "$log" | cut -d= -f2)
      [ "${shed:-0}" != 0 ] && drops="$drops (and $shed shed from the longest queue, to read other flows)"
      [ "${bandwidth:-0}" != 0 ] && drops="$drops (and $bandwidth over --max-bps, by policy)"
    fi
    printf '| %s | %d | %.0f / %.0f us | %.0f / %.0f us | %.2f%% | %.2f%% | %s |\n' "$server" "$round" \
      "$(field "$alone" rttP50Us)" "$(field "$alone" rttP99Us)" "$(field "$beside" rttP50Us)" \
      "$(field "$beside" rttP99Us)" "$(echo "$(field "$beside" loss) * 100" | bc -l)" \
      "$(echo "$(field "$slow" loss) * 100" | bc -l)" "$drops" | tee -a "$OUT/report.md"
    sleep 1
  done
done
cat "$OUT/report.md"
echo "results in $OUT"
