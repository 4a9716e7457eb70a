#!/usr/bin/env bash
# A bounded soak (about 12 minutes): 10,000 allocations relaying through Turnpike on loopback, half refreshed and
# deleted at the end, half left to expire; then heap after GC, open descriptors, relay sockets and drops are
# compared with the relay's baseline before the soak. Results go to $OUT (summary.txt, the relay's log, metrics).
#   benchmarks/soak.sh                      # defaults below
#   ALLOCATIONS=2000 SECONDS_=620 benchmarks/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ALLOCATIONS=${ALLOCATIONS:-10000}
SECONDS_=${SECONDS_:-660}
RATE=${RATE:-2000}
PORT=${PORT:-3478}
METRICS=127.0.0.1:9641
OUT=${OUT:-benchmarks/target/soak-$(date -u +%Y%m%dT%H%M%SZ)}

. benchmarks/lib.sh
use_jdk25_and_jars
mkdir -p "$OUT"
# every allocation is a relay socket and every client a socket: room for both, and the quota for all of them
ulimit -n "$(ulimit -Hn)"

"$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --realm example.org \
  --auth-secret soak-secret --allow-peer 127.0.0.0/8 --max-lifetime 600 --max-allocations "$ALLOCATIONS" \
  --metrics-listen $METRICS --drain-timeout 0 > "$OUT/turnpike.log" 2>&1 &
RELAY=$!
trap 'kill $RELAY 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://$METRICS/healthz" >/dev/null && break; sleep 0.2; done

measure() { # $1: label
  "$JAVA_HOME/bin/jcmd" $RELAY GC.run >/dev/null
  local heap fds sockets
  heap=$("$JAVA_HOME/bin/jcmd" $RELAY GC.heap_info | awk '/garbage-first heap|total/ {for (i=1;i<=NF;i++) if ($i=="used") {print $(i+1); exit}}')
  fds=$(ls /proc/$RELAY/fd | wc -l)
  sockets=$(ss -uanp 2>/dev/null | grep -c "pid=$RELAY," || true)
  echo "$1: heap_used=$heap fds=$fds udp_sockets=$sockets" | tee -a "$OUT/summary.txt"
}
measure baseline
curl -s "http://$METRICS/metrics" > "$OUT/metrics-before.txt"

"$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.Soak --server 127.0.0.1:$PORT \
  --secret soak-secret --allocations "$ALLOCATIONS" --seconds "$SECONDS_" --rate "$RATE" \
  > "$OUT/soak.json" 2> "$OUT/soak.log"
cat "$OUT/soak.log" | tee -a "$OUT/summary.txt"
cat "$OUT/soak.json" | tee -a "$OUT/summary.txt"
measure during-teardown

# the expiring half lapses 600 s after it was made; wait for the relay to say no allocation is left (at most 120 s)
for _ in $(seq 1 120); do
  curl -s "http://$METRICS/metrics" | grep -q '^turnpike_allocations 0$' && break
  sleep 1
done
sleep 2
curl -s "http://$METRICS/metrics" > "$OUT/metrics-after.txt"
measure after
grep -E '^turnpike_(allocations|allocations_created_total|dropped_packets_total|relayed_packets_total|queued_bytes_high_water|buffered_packets_total)' \
  "$OUT/metrics-after.txt" | tee -a "$OUT/summary.txt"
kill $RELAY; wait $RELAY || true
trap - EXIT
echo "soak: results in $OUT"
