#!/usr/bin/env bash
# The container, built and run for real (issue 23), with podman and no container registry:
#   1. base images made here: a minimal Debian 12 (debootstrap --variant=minbase, from the Debian archive) tagged
#      debian:12-slim, and the same with binutils (jlink strips with objcopy) and this machine's JDK 25 tagged
#      eclipse-temurin:25-jdk: the Dockerfile's two FROM lines, as they are;
#   2. podman build of the Dockerfile (--pull=never: only those bases);
#   3. the image run with host networking: it answers a Binding and turnpike probe, runs as a non-root user, its
#      HEALTHCHECK passes, `podman stop` drains it and it exits 0, it starts with the defaults under a low open-files
#      limit, and it holds no compiler or Maven. Its size is printed.
# Usage (root, Debian): packaging/container/test.sh   (needs podman, runc, debootstrap; .ci/run installs them)
# Env: JDK (default: $JAVA_HOME), WORK (a scratch directory), KEEP_BASES=1 to reuse bases built before.
# The container it runs is named turnpike-ci, and removed at the end; the images stay (rebuilt next time).
set -euo pipefail
cd "$(dirname "$0")/../.."
JDK=${JDK:-${JAVA_HOME:?set JAVA_HOME to a JDK 25}}
WORK=${WORK:-$(mktemp -d /tmp/turnpike-container.XXXXXX)}
# crun cannot run here (hybrid cgroups, rlimits it may not set): runc, and the limits given explicitly
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nproc=4096:4096)
# no systemd here to time the health checks: they are run by hand (podman healthcheck run)
NOTIMER=(--health-interval disable)
PORT=${PORT:-34780}
fail() { echo "container test: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

base() { # TAG ROOTFS [packages]
  local tag=$1 root=$2 include=${3:-}
  if [ "${KEEP_BASES:-0}" = 1 ] && podman image exists "$tag"; then return; fi
  step "base $tag: debootstrap --variant=minbase bookworm ${include:+(+ $include)}"
  debootstrap --variant=minbase ${include:+--include=$include} bookworm "$root" http://deb.debian.org/debian \
    > "$WORK/$(basename "$root").log" 2>&1 || { tail -20 "$WORK/$(basename "$root").log"; fail "debootstrap"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}

base localhost/debian:12-slim "$WORK/rootfs"
if [ -d "$WORK/rootfs" ]; then
  tar -C "$WORK/rootfs" -c . | podman import - localhost/debian:12-slim > /dev/null
fi
base localhost/eclipse-temurin:25-jdk "$WORK/rootfs-jdk" binutils,ca-certificates
if [ -d "$WORK/rootfs-jdk" ]; then
  mkdir -p "$WORK/rootfs-jdk/opt/java"
  # links followed: a packaged JDK's cacerts is a link into the host's /etc, which the image does not have
  cp -rL "$JDK" "$WORK/rootfs-jdk/opt/java/openjdk"
  tar -C "$WORK/rootfs-jdk" -c . | podman import \
    --change 'ENV JAVA_HOME=/opt/java/openjdk' \
    --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - localhost/eclipse-temurin:25-jdk > /dev/null
fi

step "podman build (the Dockerfile as it is, from those bases only)"
start=$(date +%s)
"${PODMAN[@]}" build --isolation=chroot --pull=never --network host --format docker -t localhost/turnpike-ci:latest . \
  > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "podman build"; }
echo "built in $(( $(date +%s) - start )) s"
size=$(podman image inspect --format '{{.Size}}' localhost/turnpike-ci:latest)
echo "image size: $(( size / 1000000 )) MB ($size bytes)"

step "what the image holds: no compiler, no Maven, a non-root user, a HEALTHCHECK"
user=$(podman image inspect --format '{{.Config.User}}' localhost/turnpike-ci:latest)
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "the image runs as '$user'"
health=$(podman image inspect --format '{{json .Config.Healthcheck}}' localhost/turnpike-ci:latest)
echo "$health" | grep -q 'probe' || fail "no HEALTHCHECK with turnpike probe: $health"
found=$("${PODMAN[@]}" run --rm "${LIMITS[@]}" --ulimit nofile=20000:20000 --no-healthcheck --network host \
  --entrypoint sh localhost/turnpike-ci:latest -c \
  'for t in javac jar mvn gcc cc; do command -v $t; done; ls /opt/turnpike/runtime/bin; id -u' 2>&1) || fail "cannot run sh in the image: $found"
echo "$found"
echo "$found" | grep -Eq '(^|/)(javac|mvn|gcc|cc)$' && fail "a compiler or Maven in the image"
echo "$found" | tail -n 1 | grep -qx 0 && fail "runs as root"

step "run it: host network, defaults, port $PORT, the HEALTHCHECK's own command"
"${PODMAN[@]}" rm -f turnpike-ci > /dev/null 2>&1 || true
"${PODMAN[@]}" run -d --name turnpike-ci "${LIMITS[@]}" --ulimit nofile=1024:1024 --network host \
  --health-cmd "/opt/turnpike/bin/turnpike probe turn:127.0.0.1:$PORT --timeout-ms 3000" "${NOTIMER[@]}" \
  --stop-timeout 40 localhost/turnpike-ci:latest \
  --listen "127.0.0.1:$PORT" --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8 --drain-timeout 5 \
  > /dev/null
trap '"${PODMAN[@]}" rm -f turnpike-ci > /dev/null 2>&1 || true' EXIT
# the log read into a file, then searched: `podman logs | grep -q` under pipefail fails whenever grep stops
# reading early and podman then writes to a closed pipe
relay_log() { "${PODMAN[@]}" logs turnpike-ci > "$WORK/relay.log" 2>&1 || true; }
for _ in $(seq 100); do
  relay_log
  grep -q 'sockets ready' "$WORK/relay.log" && break
  sleep 0.2
done
tail -n 12 "$WORK/relay.log"
grep -q 'open-files limit (1024)' "$WORK/relay.log" || fail "no line about the open-files limit"
pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' turnpike-ci)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" != 0 ] || fail "the relay runs as root"
echo "relay pid $pid runs as uid $uid"
"${PODMAN[@]}" healthcheck run turnpike-ci || fail "HEALTHCHECK"
echo "healthcheck: passed"
JAR=relay-daemon/target/turnpike.jar
[ -f "$JAR" ] || fail "no $JAR: ./mvnw -B -DskipTests package first"
"$JDK/bin/java" -jar "$JAR" probe "turn:127.0.0.1:$PORT" || fail "a Binding from outside the container"
"$JDK/bin/java" -jar "$JAR" probe "turn:127.0.0.1:$PORT" --user alice --password wonderland \
  || fail "turnpike probe with a user (allocate, permission, relay out and back)"

step "podman stop: SIGTERM drains, then exit 0"
"${PODMAN[@]}" stop turnpike-ci > /dev/null
code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' turnpike-ci)
relay_log
tail -n 8 "$WORK/relay.log"
grep -Eq 'drain(ed| timed out)' "$WORK/relay.log" || fail "no drain in the log (exit code $code)"
[ "$code" = 0 ] || fail "exit code $code after podman stop"
echo "stopped: drained, exit code 0"
echo "container test: passed (image $(( size / 1000000 )) MB)"
