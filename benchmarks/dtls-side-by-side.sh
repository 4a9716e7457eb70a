#!/usr/bin/env bash
# Clients over DTLS: Turnpike (--listen-dtls) and coturn (its DTLS listener, -m 1) on this machine in the same run,
# alternating servers each round, each driven by coturn's own turnutils_uclient -S (the load generator speaks UDP,
# TCP and TLS, not DTLS) through the relay to a turnutils_peer echo peer on loopback. The relay is pinned to CPU 1;
# its CPU time (utime + stime, /proc/PID/stat) from the first client's start to the last one's end is divided by
# the datagrams it relayed: each message crosses it twice (client to peer, peer to client). Each relay first
# carries WARMUP_RUNS runs of the same load unmeasured (a relay runs for days; a fresh JVM's first minute compiles
# the JDK's DTLS code, which is not what a datagram costs). The measured run's handshakes (one a client, and for
# coturn's client a DTLS 1.0 try or two that Turnpike refuses) are in the figure, a small part of it. Writes results.tsv and report.md to $OUT. Turnpike runs with --challenge-rate 0:
# every client here is 127.0.0.1, one source IP's budget of 401 replies, and turnutils_uclient does not resend a
# request over DTLS, so with the default some of its clients would wait for ever.
#
#   benchmarks/dtls-side-by-side.sh                       # 3 rounds, 50 clients, 2,000 messages each (~40 s a run)
#   ROUNDS=1 CLIENTS=20 MESSAGES=500 benchmarks/dtls-side-by-side.sh
#   INTERVAL_MS=2 MESSAGES=10000 benchmarks/dtls-side-by-side.sh  # ten times the rate: 25,000 messages/s
#   WARMUP_RUNS=0 benchmarks/dtls-side-by-side.sh               # 2026-12-06's figure: a cold JVM counted
#
# Needs: a JDK 25, coturn (apt-get install coturn), taskset, openssl. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh

ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
MESSAGES=${MESSAGES:-2000}
# uclient's runs the relay's JIT warms up on before the measured one (the same load, not counted): the first
# runs of a fresh JVM compile the JDK's DTLS engine, which coturn, in C, never pays; 0 counts the cold start too
WARMUP_RUNS=${WARMUP_RUNS:-1}
# milliseconds between a client's messages (turnutils_uclient -z; its default is 20)
INTERVAL_MS=${INTERVAL_MS:-20}
SERVERS=${SERVERS:-"turnpike coturn-m1"}
OUT=${OUT:-benchmarks/target/dtls-side-by-side-$(date +%Y%m%d-%H%M%S)}
PORT=${PORT:-13578}
DTLS_PORT=${DTLS_PORT:-15449}
PEER_PORT=${PEER_PORT:-16600}
for tool in turnserver turnutils_uclient turnutils_peer taskset openssl; do
  command -v "$tool" >/dev/null || { echo "dtls-side-by-side: $tool not found (apt-get install coturn util-linux openssl)" >&2; exit 1; }
done
use_jdk25_and_jars
mkdir -p "$OUT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$OUT/key.pem" -out "$OUT/cert.pem" \
  -days 2 -subj /CN=127.0.0.1 2>/dev/null

PEER_PID=""; SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null || true
}
trap cleanup EXIT
taskset -c 0 turnutils_peer -p $PEER_PORT -L 127.0.0.1 > "$OUT/peer.log" 2>&1 &
PEER_PID=$!

start_server() {
  case "$1" in
    turnpike)
      taskset -c 1 "$JAVA" -jar relay-daemon/target/turnpike.jar --listen 127.0.0.1:$PORT --listen-dtls 127.0.0.1:$DTLS_PORT \
        --tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem" --relay-ports 50000-59999 --realm example.org \
        --user alice:wonderland --allow-peer 127.0.0.0/8 --rfc5766-channel-numbers --user-quota 0 --client-quota 0 \
        --challenge-rate 0 --connections-per-ip 0 --max-connections 1000 --drain-timeout 0 > "$OUT/$1.log" 2>&1 & ;;
    coturn-m1)
      taskset -c 1 turnserver -n --no-cli --listening-ip 127.0.0.1 --listening-port $PORT --tls-listening-port $DTLS_PORT \
        --relay-ip 127.0.0.1 --min-port 50000 --max-port 59999 --realm example.org --user alice:wonderland \
        --lt-cred-mech --allow-loopback-peers --cert "$OUT/cert.pem" --pkey "$OUT/key.pem" --no-tcp --no-tls \
        --log-file stdout -m 1 > "$OUT/$1.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    ss -uln | grep -q "127.0.0.1:$DTLS_PORT " && return 0
    sleep 0.2
  done
  echo "dtls-side-by-side: $1 did not listen on $DTLS_PORT" >&2; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

printf 'round\tserver\tmessages_sent\tmessages_received\tlost_percent\tcpu_s\tcpu_s_per_mpkt\n' > "$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    echo "== round $round: $server"
    start_server "$server"
    sleep 2
    for w in $(seq 1 "$WARMUP_RUNS"); do
      taskset -c 0 turnutils_uclient -S -u alice -w wonderland -e 127.0.0.1 -r $PEER_PORT -n "$MESSAGES" -m "$CLIENTS" \
        -l 170 -z "$INTERVAL_MS" -p $DTLS_PORT 127.0.0.1 > "$OUT/$server-$round-warmup$w.uclient" 2>&1 || true
    done
    before=$(cpu_ticks "$SERVER_PID")
    taskset -c 0 turnutils_uclient -S -u alice -w wonderland -e 127.0.0.1 -r $PEER_PORT -n "$MESSAGES" -m "$CLIENTS" \
      -l 170 -z "$INTERVAL_MS" -p $DTLS_PORT 127.0.0.1 > "$OUT/$server-$round.uclient" 2>&1 || true
    after=$(cpu_ticks "$SERVER_PID")
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    hz=$(getconf CLK_TCK)
    totals=$(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$OUT/$server-$round.uclient" | tail -1)
    sent=$(echo "$totals" | sed -E 's/tot_send_msgs=([0-9]+).*/\1/'); received=$(echo "$totals" | sed -E 's/.*tot_recv_msgs=([0-9]+)/\1/')
    lost=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$OUT/$server-$round.uclient" | tail -1 | sed -E 's/.*\(([0-9.]+)%\)/\1/')
    awk -v r="$round" -v s="$server" -v sent="${sent:-0}" -v recv="${received:-0}" -v lost="${lost:-100}" \
      -v ticks=$((after - before)) -v hz="$hz" 'BEGIN {
        cpu = ticks / hz; pkts = 2 * recv;
        printf "%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\n", r, s, sent, recv, lost, cpu, (pkts > 0 ? cpu / pkts * 1e6 : 0) }' \
      >> "$OUT/results.tsv"
    tail -1 "$OUT/results.tsv"
  done
done

{
  echo "#### Clients over DTLS: $CLIENTS clients x $MESSAGES messages of 170 bytes, one each $INTERVAL_MS ms (turnutils_uclient -S -z $INTERVAL_MS), $ROUNDS round(s), each measured after $WARMUP_RUNS unmeasured run(s) of the same load"
  echo
  echo "| server | relay CPU s per M packets (median) | lost (max) |"
  echo "|---|---|---|"
  for server in $SERVERS; do
    median=$(awk -F'\t' -v s="$server" '$2 == s {print $7}' "$OUT/results.tsv" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}')
    lost=$(awk -F'\t' -v s="$server" '$2 == s {print $5}' "$OUT/results.tsv" | sort -n | tail -1)
    echo "| $server | $median | $lost% |"
  done
  echo
  echo "Round by round (Turnpike / coturn CPU per packet):"
  for round in $(seq 1 "$ROUNDS"); do
    awk -F'\t' -v r="$round" '$1 == r && $2 == "turnpike" {t=$7} $1 == r && $2 == "coturn-m1" {c=$7}
      END { if (t > 0 && c > 0) printf "- round %s: %.2fx\n", r, t / c }' "$OUT/results.tsv"
  done
} > "$OUT/report.md"
cat "$OUT/report.md"
echo "results in $OUT"
