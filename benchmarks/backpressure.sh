#!/usr/bin/env bash
# Peers behind a link slower than the traffic's bursts: an echo peer in a network namespace behind a veth whose
# egress is shaped by tbf (RATE, with a queue of QUEUE_MS, like a small device queue). Clients on loopback
# send bursts through the relay. Compares Turnpike, Turnpike with the benchmark-only drop-when-full switch,
# and coturn -m 1: end-to-end loss from the load generator, relay-side drops, buffered packets and the time
# they waited (Turnpike's counters, logged when it stops), and what the qdisc dropped.
#
#   sudo benchmarks/backpressure.sh                 # root: it creates a network namespace and a veth pair
#   OFFERED=10000 BURST=1 SECONDS_EACH=3 SERVERS="turnpike coturn-m1" sudo benchmarks/backpressure.sh
#                                                   # one flow at 80 Mbit/s for 3 s into a 20 Mbit/s link
#
# Needs a JDK 25, coturn, iproute2. Traffic stays on this machine (a /30 inside our own namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-20mbit}
QUEUE_MS=${QUEUE_MS:-50}
OFFERED=${OFFERED:-2000}      # round trips/s on average: 16 Mbit/s of 1000-byte payloads, below the link rate
BURST=${BURST:-200}           # ...sent 200 at a time, ten times a second: each burst is above the link rate
PAYLOAD=${PAYLOAD:-1000}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
# One allocation: socket backpressure protects the link queue only while the sockets sending into it hold less
# than it does; many allocations bursting together overflow a shared queue whatever each socket holds.
ALLOCATIONS=${ALLOCATIONS:-1}
SERVERS=${SERVERS:-"turnpike turnpike-drop coturn-m1"}
# Turnpike's send buffer, kept below the qdisc's queue so that the socket blocks before the qdisc drops.
SEND_BUFFER=${SEND_BUFFER:-65536}
OUT=${OUT:-benchmarks/target/backpressure-$(date -u +%Y%m%dT%H%M%SZ)}
NS=tp-bench-$$
HOST_DEV=tpb$$a
PEER_DEV=tpb$$b
HOST_IP=10.231.78.1
PEER_IP=10.231.78.2
PEER_PORT=3480
PORT=3478

. benchmarks/lib.sh
use_jdk25_and_jars
mkdir -p "$OUT"

cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null || true
  shaped_peer_down
}
trap cleanup EXIT

shaped_peer_up "$OUT/peer.log"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "link: tbf rate $RATE, queue ${QUEUE_MS} ms; $ALLOCATIONS allocation(s); offered $OFFERED round trips/s of $PAYLOAD bytes in bursts of $BURST; Turnpike --send-buffer $SEND_BUFFER"
  echo "turnpike: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); coturn: $(dpkg-query -W -f='${Version}' coturn 2>/dev/null || echo unknown)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"
echo "| server | round | end-to-end loss | relay-side drops | packets buffered | mean wait when buffered | qdisc drops |" > "$OUT/report.md"
echo "|---|---|---|---|---|---|---|" >> "$OUT/report.md"

for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    before=$(tc -s qdisc show dev "$HOST_DEV" | grep -o 'dropped [0-9]*' | head -n 1 | cut -d' ' -f2)
    case "$server" in
      turnpike|turnpike-drop)
        variant=(); [ "$server" = turnpike-drop ] && variant=(--benchmark-drop-when-full)
        "$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --relay-address "$HOST_IP" \
          --send-buffer "$SEND_BUFFER" --relay-ports 50000-59999 --realm example.org --user alice:wonderland --allow-peer 10.231.78.0/30 \
          --drain-timeout 0 "${variant[@]}" > "$OUT/$server-$round.log" 2>&1 & ;;
      coturn-m1)
        turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --relay-ip "$HOST_IP" \
          --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland --lt-cred-mech \
          --no-tls --no-dtls -m 1 --log-file stdout > "$OUT/$server-$round.log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 1 100); do ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.2; done
    result=$("$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator \
      --server 127.0.0.1:$PORT --label "$server" --allocations "$ALLOCATIONS" --peer "$PEER_IP:$PEER_PORT" --payload "$PAYLOAD" \
      --rates "$OFFERED" --burst "$BURST" --initial-warmup-seconds 3 --warmup-seconds 2 --seconds "$SECONDS_EACH" \
      --out "$OUT/results.jsonl" | grep '^{' | tail -n 1)
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
    after=$(tc -s qdisc show dev "$HOST_DEV" | grep -o 'dropped [0-9]*' | head -n 1 | cut -d' ' -f2)
    loss=$(echo "$result" | grep -o '"loss":[0-9.]*' | cut -d: -f2)
    log="$OUT/$server-$round.log"
    if [ "$server" = coturn-m1 ]; then
      drops="not counted"; buffered="-"; wait_ms="-"
    else
      drops=$(grep -o 'droppedFullBuffer=[0-9]*' "$log" | cut -d= -f2)
      drops=$((drops + $(grep -o 'droppedSEND_ERROR=[0-9]*' "$log" | cut -d= -f2)))
      drops=$((drops + $(grep -o 'droppedShed=[0-9]*' "$log" | cut -d= -f2)))
      drops=$((drops + $(grep -o 'droppedBANDWIDTH=[0-9]*' "$log" | cut -d= -f2)))
      buffered=$(grep -o 'packetsBuffered=[0-9]*' "$log" | cut -d= -f2)
      total_ms=$(grep -o 'bufferedMsTotal=[0-9]*' "$log" | cut -d= -f2)
      wait_ms=$([ "$buffered" -gt 0 ] && echo "$(( total_ms * 1000 / buffered )) us" || echo "-")
    fi
    printf '| %s | %d | %.2f%% | %s | %s | %s | %d |\n' "$server" "$round" "$(echo "$loss * 100" | bc -l)" \
      "$drops" "$buffered" "$wait_ms" "$((after - before))" | tee -a "$OUT/report.md"
    sleep 1
  done
done
cat "$OUT/report.md"
echo "results in $OUT"
