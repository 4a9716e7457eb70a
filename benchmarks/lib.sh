# Shared by the benchmark scripts; they source it from the repository's root (`. benchmarks/lib.sh`).

# JAVA (exported JAVA_HOME too): a JDK 25, the one in JAVA_HOME if it is one, otherwise the first under
# /usr/lib/jvm, whatever `java` is first on the PATH. Then the jars, built if they are missing.
use_jdk25_and_jars() {
  if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"25'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/*-25-* 2>/dev/null | head -n 1)
  fi
  export JAVA_HOME
  JAVA="$JAVA_HOME/bin/java"
  [ -f relay-daemon/target/turnpike.jar ] && [ -f benchmarks/target/benchmarks.jar ] || ./mvnw -B -q -DskipTests package
}

# A peer behind a slow link (root): benchmarks' EchoPeer at PEER_IP:PEER_PORT in network namespace NS, reached
# over a veth pair (HOST_DEV with HOST_IP on this side, PEER_DEV in NS) whose egress toward the peer is shaped by
# tbf to RATE with a queue of QUEUE_MS. Its log goes to $1. Sets PEER_PID; shaped_peer_down undoes it all.
shaped_peer_up() {
  ip netns add "$NS"
  ip link add "$HOST_DEV" type veth peer name "$PEER_DEV"
  ip link set "$PEER_DEV" netns "$NS"
  ip addr add "$HOST_IP/30" dev "$HOST_DEV"
  ip link set "$HOST_DEV" up
  ip netns exec "$NS" ip addr add "$PEER_IP/30" dev "$PEER_DEV"
  ip netns exec "$NS" ip link set "$PEER_DEV" up
  ip netns exec "$NS" ip link set lo up
  tc qdisc add dev "$HOST_DEV" root tbf rate "$RATE" burst 32kb latency "${QUEUE_MS}ms"
  ip netns exec "$NS" "$JAVA" -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.generator.EchoPeer "$PEER_IP" \
    "$PEER_PORT" > "$1" 2>&1 &
  PEER_PID=$!
  sleep 1
}

shaped_peer_down() {
  [ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$HOST_DEV" 2>/dev/null || true
}
