package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code turnpike credentials} and {@code --auth-secret-file}, through the packaged jar. */
class CredentialsCommandIT {
    private static final Pattern ICE_SERVER = Pattern.compile(
            "\\{\"urls\":\\[\"turn:127\\.0\\.0\\.1:(\\d+)\"\\],\"username\":\"(\\d+:carol)\",\"credential\":\"([^\"]+)\"\\}");

    @TempDir
    Path dir;

    private static Interop.Result java(String... args) throws Exception {
        return Interop.run(30, Interop.javaCommand(args).toArray(String[]::new));
    }

    @Test
    void credentialsItPrintsAreAcceptedByARelayReadingTheSameSecretFromAFile() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "# the TURN REST API secret\ncorrect-horse-battery\n");
        int port = Interop.testPort("127.0.0.1");
        Interop.Result printed = java(
                "credentials",
                "--secret-file",
                secret.toString(),
                "--user",
                "carol",
                "--ttl",
                "10m",
                "--url",
                "turn:127.0.0.1:" + port);
        assertThat(printed.exitCode()).as(printed.output()).isZero();
        Matcher entry = ICE_SERVER.matcher(printed.output());
        assertThat(entry.find()).as(printed.output()).isTrue();
        long expiry = Long.parseLong(entry.group(2).split(":")[0]);
        assertThat(expiry - System.currentTimeMillis() / 1000).as("the ttl").isBetween(590L, 601L);

        try (DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:" + port,
                        "--relay-ports",
                        Interop.relayPorts(50).flag(),
                        "--realm",
                        "example.org",
                        "--auth-secret-file",
                        secret.toString());
                TurnClient client = new TurnClient(
                        new InetSocketAddress("127.0.0.1", port), entry.group(2), entry.group(3), "example.org")) {
            assertThat(client.allocate())
                    .as("allocated with the printed credentials")
                    .isNotNull();
            client.refresh(0);
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).contains("authSecrets=1").doesNotContain("correct-horse-battery");
            assertThat(daemon.output())
                    .as("the allocation's life at INFO")
                    .containsPattern(
                            "allocation created user=\\d+:carol client=127\\.0\\.0\\.1:\\d+ relayed=127\\.0\\.0\\.1:\\d+ lifetime=600")
                    .containsPattern("allocation deleted user=\\d+:carol .*ageSeconds=\\d+ packetsToPeers=0");
        }
    }

    @Test
    void aBadTtlAndAnUnreadableSecretFileAreOneLineEachAndExitCode2() throws Exception {
        Files.writeString(dir.resolve("secret"), "s\n");
        Interop.Result badTtl =
                java("credentials", "--secret-file", dir.resolve("secret").toString(), "--user", "a", "--ttl", "0s");
        assertThat(badTtl.exitCode()).isEqualTo(2);
        assertThat(badTtl.output().strip().lines()).hasSize(1);
        assertThat(badTtl.output()).contains("--ttl", "expected");

        Interop.Result missing = java(
                "--listen",
                "127.0.0.1:0",
                "--auth-secret-file",
                dir.resolve("none").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.output().strip().lines()).hasSize(1);
        assertThat(missing.output()).contains("--auth-secret-file", "cannot read");
    }
}
