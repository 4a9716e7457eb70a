# Build: docker build -t turnpike .
# Run:   docker run --network host turnpike --realm example.org --user alice:wonderland
# Host networking is the usual way to run a TURN relay in a container: the relay port range is large and
# the relayed addresses must be the host's own.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests package

FROM eclipse-temurin:25-jre
RUN useradd --system --no-create-home turnpike
COPY --from=build /src/relay-daemon/target/turnpike.jar /opt/turnpike/turnpike.jar
USER turnpike
EXPOSE 3478/udp
ENTRYPOINT ["java", "-jar", "/opt/turnpike/turnpike.jar"]
