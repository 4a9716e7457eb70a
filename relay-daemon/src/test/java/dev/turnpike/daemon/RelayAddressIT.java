package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The packaged daemon's relay addresses and credential sources, seen from a client over real UDP. */
class RelayAddressIT {
    @Test
    void theRelayAddressDefaultsToTheConcreteListenAddress() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        Interop.PortRange ports = Interop.relayPorts(100);
        try (DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:" + port,
                        "--relay-ports",
                        ports.flag(),
                        "--user",
                        "alice:wonderland",
                        "--realm",
                        "example.org");
                TurnClient client = new TurnClient(
                        new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org")) {
            InetSocketAddress relayed = client.allocate();
            assertThat(relayed.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            assertThat(relayed.getPort()).isBetween(ports.low(), ports.high());
            assertThat(daemon.output()).contains("relayIpv4=127.0.0.1", "relayIpv6=none");
        }
    }

    @Test
    void thePublicAddressIsWhatTheClientIsToldWhileTheRelayBindsLocally() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        Interop.PortRange ports = Interop.relayPorts(100);
        try (DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:" + port,
                        "--relay-ports",
                        ports.flag(),
                        "--user",
                        "alice:wonderland",
                        "--realm",
                        "example.org",
                        "--public-address",
                        "203.0.113.5");
                TurnClient client = new TurnClient(
                        new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org")) {
            InetSocketAddress relayed = client.allocate();
            assertThat(relayed.getAddress().getHostAddress()).isEqualTo("203.0.113.5");
            assertThat(relayed.getPort()).isBetween(ports.low(), ports.high());
            assertThat(daemon.output()).contains("relayIpv4=127.0.0.1");
        }
    }

    @Test
    void usersComeFromTheUsersFileAndAWrongPasswordIsRefused() throws Exception {
        Path users = Files.createTempFile("turnpike-users", ".txt");
        int port = Interop.testPort("127.0.0.1");
        Interop.PortRange ports = Interop.relayPorts(100);
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        try {
            Files.writeString(users, "# operators\nbob:build:er\n\ncarol:x\n");
            try (DaemonProcess daemon = DaemonProcess.start(
                    "--listen",
                    "127.0.0.1:" + port,
                    "--relay-ports",
                    ports.flag(),
                    "--users-file",
                    users.toString(),
                    "--realm",
                    "example.org")) {
                try (TurnClient bob = new TurnClient(server, "bob", "build:er", "example.org")) {
                    assertThat(bob.allocate().getPort()).isBetween(ports.low(), ports.high());
                }
                try (TurnClient mallory = new TurnClient(server, "bob", "builder", "example.org")) {
                    assertThatThrownBy(mallory::allocate).hasMessageContaining("not authenticated");
                }
                assertThat(daemon.output()).contains("users=2").doesNotContain("build:er");
            }
        } finally {
            Files.deleteIfExists(users);
        }
    }
}
