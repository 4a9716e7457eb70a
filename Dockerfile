# Build: docker build -t turnpike .
# Run:   docker run --network host turnpike --realm example.org --user alice:wonderland
# Host networking is the usual way to run a TURN relay in a container: the relay port range is large and
# the relayed addresses must be the host's own. See docs/operations.md.

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
# The dependencies first, in a layer of their own: a change to the sources does not fetch them again.
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY relay-core/pom.xml relay-core/
COPY relay-daemon/pom.xml relay-daemon/
COPY benchmarks/pom.xml benchmarks/
RUN ./mvnw -B -q dependency:go-offline
COPY . .
# target/turnpike: the jar, and a jlink runtime with only the modules it uses (go-offline misses a test-only
# artifact or two, so this may still fetch those)
RUN ./mvnw -B -q -DskipTests -DskipFuzz package -pl relay-daemon -am

FROM debian:12-slim
RUN useradd --system --no-create-home --uid 10001 turnpike
COPY --from=build /src/relay-daemon/target/turnpike/runtime /opt/turnpike/runtime
COPY --from=build /src/relay-daemon/target/turnpike/lib /opt/turnpike/lib
COPY --from=build /src/relay-daemon/target/turnpike/bin /opt/turnpike/bin
USER turnpike
EXPOSE 3478/udp
# Whether the relay answers a STUN Binding on 127.0.0.1:3478 (its event loop does the answering). With
# another --listen, override it: docker run --health-cmd '/opt/turnpike/bin/turnpike probe turn:ADDR:PORT'
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["/opt/turnpike/bin/turnpike", "probe", "turn:127.0.0.1:3478", "--timeout-ms", "3000"]
# SIGTERM drains (docker stop waits 10 s by default: pass --stop-timeout above --drain-timeout)
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/turnpike/bin/turnpike"]
