# Sourced by ./mvnw and ./turnpike: Turnpike builds and runs on JDK 25. Use JAVA_HOME when it is a JDK 25;
# otherwise the JDK 25 installed beside the system's Java (Debian and Temurin put JDKs under /usr/lib/jvm),
# whatever `java` comes first on the PATH.
turnpike_is_jdk25() {
  [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | grep -q 'version "25'
}
if [ -z "${JAVA_HOME:-}" ] || ! turnpike_is_jdk25 "$JAVA_HOME"; then
  for turnpike_candidate in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-* /usr/lib/jvm/*-25-* /usr/lib/jvm/*25*; do
    if turnpike_is_jdk25 "$turnpike_candidate"; then
      JAVA_HOME=$turnpike_candidate
      export JAVA_HOME
      break
    fi
  done
fi
