#!/usr/bin/env bash
# RFC 6062 TCP relaying: Turnpike and coturn (-m 1, one relay thread) on this machine in the same run, alternating
# servers each round, each driven by coturn's own turnutils_uclient -T -y: clients in pairs, each with a TCP
# allocation, one of each pair Connecting to the other's relayed address, so that every message crosses the relay
# twice (the data connection to the peer connection, and in again at the other relayed address to the other data
# connection). The relay is pinned to CPU 1, the clients to CPU 0; the relay's CPU time (utime + stime,
# /proc/PID/stat) over the run is divided by the messages the clients received. Connection set-up (allocations,
# Connects, binds) is in the figure; with the defaults it is a small part of it. Writes results.tsv and report.md to
# $OUT.
#
#   benchmarks/tcp-relay-side-by-side.sh                  # 3 rounds, 20 clients, 5,000 messages each, one a 2 ms
#   ROUNDS=1 CLIENTS=10 MESSAGES=1000 benchmarks/tcp-relay-side-by-side.sh
#
# Needs: a JDK 25, coturn (apt-get install coturn), taskset. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh

ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-20}
MESSAGES=${MESSAGES:-5000}
INTERVAL_MS=${INTERVAL_MS:-2}
SERVERS=${SERVERS:-"turnpike coturn-m1"}
OUT=${OUT:-benchmarks/target/tcp-relay-side-by-side-$(date +%Y%m%d-%H%M%S)}
PORT=${PORT:-13579}
for tool in turnserver turnutils_uclient taskset; do
  command -v "$tool" >/dev/null || { echo "tcp-relay-side-by-side: $tool not found (apt-get install coturn util-linux)" >&2; exit 1; }
done
use_jdk25_and_jars
mkdir -p "$OUT"

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

start_server() {
  case "$1" in
    turnpike)
      taskset -c 1 "$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --listen-tcp 127.0.0.1:$PORT \
        --relay-ports 50000-59999 --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8 \
        --user-quota 0 --client-quota 0 --challenge-rate 0 --connections-per-ip 0 --max-connections 1000 \
        --drain-timeout 0 > "$OUT/$1.log" 2>&1 & ;;
    coturn-m1)
      taskset -c 1 turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --relay-ip 127.0.0.1 \
        --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland --lt-cred-mech \
        --allow-loopback-peers --no-tls --no-dtls --log-file stdout -m 1 > "$OUT/$1.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    ss -tln | grep -q "127.0.0.1:$PORT " && return 0
    sleep 0.2
  done
  echo "tcp-relay-side-by-side: $1 did not listen on $PORT" >&2; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

printf 'round\tserver\tmessages_sent\tmessages_received\tlost_percent\tcpu_s\tcpu_us_per_message\n' > "$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    echo "== round $round: $server"
    start_server "$server"
    sleep 2
    before=$(cpu_ticks "$SERVER_PID")
    taskset -c 0 turnutils_uclient -T -y -t -u alice -w wonderland -n "$MESSAGES" -m "$CLIENTS" -l 170 -z "$INTERVAL_MS" -p $PORT \
      127.0.0.1 > "$OUT/$server-$round.uclient" 2>&1 || true
    after=$(cpu_ticks "$SERVER_PID")
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    hz=$(getconf CLK_TCK)
    totals=$(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$OUT/$server-$round.uclient" | tail -1)
    sent=$(echo "$totals" | sed -E 's/tot_send_msgs=([0-9]+).*/\1/'); received=$(echo "$totals" | sed -E 's/.*tot_recv_msgs=([0-9]+)/\1/')
    lost=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$OUT/$server-$round.uclient" | tail -1 | sed -E 's/.*\(([0-9.]+)%\)/\1/')
    awk -v r="$round" -v s="$server" -v sent="${sent:-0}" -v recv="${received:-0}" -v lost="${lost:-100}" \
      -v ticks=$((after - before)) -v hz="$hz" 'BEGIN {
        cpu = ticks / hz;
        printf "%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\n", r, s, sent, recv, lost, cpu, (recv > 0 ? cpu / recv * 1e6 : 0) }' \
      >> "$OUT/results.tsv"
    tail -1 "$OUT/results.tsv"
  done
done

{
  echo "#### RFC 6062 TCP relaying: $CLIENTS clients (pairs) x $MESSAGES messages of 170 bytes, one each $INTERVAL_MS ms (turnutils_uclient -T -y -z $INTERVAL_MS), $ROUNDS round(s)"
  echo
  echo "| server | relay CPU us per message received (median) | lost (max) |"
  echo "|---|---|---|"
  for server in $SERVERS; do
    median=$(awk -F'\t' -v s="$server" '$2 == s {print $7}' "$OUT/results.tsv" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}')
    lost=$(awk -F'\t' -v s="$server" '$2 == s {print $5}' "$OUT/results.tsv" | sort -n | tail -1)
    echo "| $server | $median | $lost% |"
  done
  echo
  echo "Round by round (Turnpike / coturn CPU per message):"
  for round in $(seq 1 "$ROUNDS"); do
    awk -F'\t' -v r="$round" '$1 == r && $2 == "turnpike" {t=$7} $1 == r && $2 == "coturn-m1" {c=$7}
      END { if (t > 0 && c > 0) printf "- round %s: %.2fx\n", r, t / c }' "$OUT/results.tsv"
  done
} > "$OUT/report.md"
cat "$OUT/report.md"
echo "results in $OUT"
