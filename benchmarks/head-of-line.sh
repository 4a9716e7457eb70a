#!/usr/bin/env bash
# What one TCP client that stops reading costs everyone else: UDP clients relaying at a fixed rate, measured alone
# and then while benchmarks' StalledClient (a TCP client that never reads, sent MBITS Mbit/s by its peer through
# the relay, reconnecting whenever the relay closes it at --max-connection-queued-bytes) runs beside them. Writes
# results.jsonl and prints RTT percentiles and the relay's CPU for both. Traffic stays on 127.0.0.1.
#
#   benchmarks/head-of-line.sh                 # RATE=10000 round trips/s, MBITS=8, SECONDS_=10, ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-10000}
MBITS=${MBITS:-8}
SECONDS_=${SECONDS_:-10}
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-benchmarks/target/head-of-line-$(date -u +%Y%m%dT%H%M%SZ)}
PORT=3478

. benchmarks/lib.sh
use_jdk25_and_jars
mkdir -p "$OUT"

"$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --listen-tcp 127.0.0.1:$PORT \
  --relay-ports 50000-59999 --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8 \
  --user-quota 0 --client-quota 0 --challenge-rate 0 --max-bps 0 --max-connections 1000 --drain-timeout 0 \
  --metrics-listen 127.0.0.1:9642 > "$OUT/turnpike.log" 2>&1 &
RELAY=$!
trap 'kill $RELAY 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do ss -uln | grep -q "127.0.0.1:$PORT " && break; sleep 0.2; done

for round in $(seq 1 "$ROUNDS"); do
  for case in alone beside-a-stalled-tcp-client; do
    stalled=
    if [ "$case" != alone ]; then
      "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.StalledClient 127.0.0.1:$PORT "$MBITS" \
        $((SECONDS_ + 20)) > "$OUT/stalled-$round.log" 2>&1 &
      stalled=$!
      sleep 3 # its queue fills first
    fi
    "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.LoadGenerator \
      --server 127.0.0.1:$PORT --pid "$RELAY" --label "$case" --rates "$RATE" --seconds "$SECONDS_" \
      --initial-warmup-seconds 5 --out "$OUT/results.jsonl" | grep -v '^{'
    if [ -n "$stalled" ]; then kill "$stalled" 2>/dev/null || true; wait "$stalled" 2>/dev/null || true; fi
  done
done
curl -s http://127.0.0.1:9642/metrics | grep -E '^turnpike_connections_closed_total|^turnpike_connections_accepted' \
  | tee "$OUT/connections.txt"
echo "results in $OUT"
