package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code turnpike probe} against the packaged relay, and against coturn's turnserver: it must work for both. */
class ProbeIT {
    private static Interop.Result probe(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "probe";
        System.arraycopy(args, 0, command, 1, args.length);
        return Interop.run(60, Interop.javaCommand(command).toArray(String[]::new));
    }

    @Test
    void aWorkingTurnpikePassesEveryStepAndAWrongPasswordIsNamed() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(port)) {
            Interop.Result passed = probe("turn:127.0.0.1:" + port, "--user", "alice", "--password", "wonderland");
            assertThat(passed.exitCode()).as(passed.output()).isZero();
            assertThat(passed.output())
                    .contains("ok    binding", "ok    allocate", "ok    permission", "ok    relay out")
                    .contains("ok    relay back", "probe: all passed");

            Interop.Result alive = probe("turn:127.0.0.1:" + port);
            assertThat(alive.exitCode()).as(alive.output()).isZero();
            assertThat(alive.output()).contains("ok    binding", "allocation not checked");

            Interop.Result refused = probe("turn:127.0.0.1:" + port, "--user", "alice", "--password", "wrong");
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.output()).contains("FAIL  allocate: credentials refused (401)");
            assertThat(daemon.terminate()).isZero();
        }
        Interop.Result nobody =
                probe("turn:127.0.0.1:" + port, "--user", "a", "--password", "b", "--timeout-ms", "300");
        assertThat(nobody.exitCode()).isEqualTo(1);
        assertThat(nobody.output()).contains("FAIL  binding: no answer", "a firewall in the way, the wrong port");
        Interop.Result gone = probe("turn:127.0.0.1:" + port, "--timeout-ms", "300");
        assertThat(gone.exitCode())
                .as("the health check of a relay that is gone")
                .isEqualTo(1);
    }

    @Test
    void coturnPassesEveryStepToo() throws Exception {
        Path turnserver = Interop.tool("turnserver", "coturn");
        int port = Interop.testPort("127.0.0.1");
        Interop.PortRange ports = Interop.relayPorts(50);
        try (Background coturn = Background.start(
                turnserver.toString(),
                "-n",
                "--no-cli",
                "--listening-ip",
                "127.0.0.1",
                "--listening-port",
                String.valueOf(port),
                "--relay-ip",
                "127.0.0.1",
                "--min-port",
                String.valueOf(ports.low()),
                "--max-port",
                String.valueOf(ports.high()),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--lt-cred-mech",
                "--allow-loopback-peers",
                "--no-tls",
                "--no-dtls",
                "--log-file",
                "stdout")) {
            // ready when it answers a Binding (at most 20 s)
            try (TurnClient ready =
                    new TurnClient(new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org")) {
                LoopFixture.awaitTrue(
                        () -> {
                            try {
                                ready.binding(200);
                                return true;
                            } catch (java.io.IOException e) {
                                return false;
                            }
                        },
                        20_000,
                        "turnserver answering on " + port);
            }
            Interop.Result passed = probe("turn:127.0.0.1:" + port, "--user", "alice", "--password", "wonderland");
            assertThat(passed.exitCode())
                    .as(passed.output() + "\ncoturn:\n" + coturn.output())
                    .isZero();
            assertThat(passed.output()).contains("probe: all passed");
        }
    }

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    @Test
    void aHostNameAndTcpAndTlsArePassedEveryStep() throws Exception {
        TestCertificate certificate = TestCertificate.make(dir);
        try (DaemonProcess daemon = DaemonProcess.startRelay(
                0,
                Interop.concat(new String[] {"--listen-tcp", "127.0.0.1:0"}, certificate.tlsListener("127.0.0.1:0")))) {
            int udp = daemon.listener("udp").getPort();
            int tcp = daemon.listener("tcp").getPort();
            int tls = daemon.listener("tls").getPort();
            String[] alice = {"--user", "alice", "--password", "wonderland"};

            Interop.Result byName = probe(Interop.concat(new String[] {"turn:localhost:" + udp}, alice));
            assertThat(byName.exitCode()).as(byName.output()).isZero();
            assertThat(byName.output()).contains("probe: all passed");

            // no UDP listener on the TCP port: the echo peer is this machine as the relay saw the connection
            Interop.Result overTcp =
                    probe(Interop.concat(new String[] {"turn:127.0.0.1:" + tcp + "?transport=tcp"}, alice));
            assertThat(overTcp.exitCode()).as(overTcp.output()).isZero();
            assertThat(overTcp.output()).contains("ok    connect: tcp", "ok    relay back", "probe: all passed");

            Interop.Result overTls =
                    probe(Interop.concat(new String[] {"turns:127.0.0.1:" + tls, "--tls-insecure"}, alice));
            assertThat(overTls.exitCode()).as(overTls.output()).isZero();
            assertThat(overTls.output()).contains("ok    connect: tls", "probe: all passed");

            Interop.Result untrusted = probe(Interop.concat(new String[] {"turns:127.0.0.1:" + tls}, alice));
            assertThat(untrusted.exitCode()).as(untrusted.output()).isEqualTo(1);
            assertThat(untrusted.output()).contains("FAIL  tls: no TLS session", "--tls-insecure takes any");

            Interop.Result healthOverTcp = probe("turn:127.0.0.1:" + tcp + "?transport=tcp");
            assertThat(healthOverTcp.exitCode()).as(healthOverTcp.output()).isZero();
            assertThat(healthOverTcp.output()).contains("allocation not checked");

            assertThat(daemon.terminate()).isZero();
            assertThat(count(daemon.output(), "allocation deleted"))
                    .as("every probe deleted its allocation")
                    .isEqualTo(count(daemon.output(), "allocation created"))
                    .isEqualTo(3);
        }
    }

    @Test
    void aFailedProbeDeletesTheAllocationItMade() throws Exception {
        // the default peer policy refuses the probe's echo peer on loopback (the relay's own address, on a port
        // no allocation holds): the step out to the peer fails
        try (DaemonProcess daemon = DaemonProcess.start(
                "--listen",
                "127.0.0.1:0",
                "--relay-ports",
                Interop.relayPorts(50).flag(),
                "--user",
                "alice:wonderland")) {
            int port = daemon.listener("udp").getPort();
            Interop.Result refused = probe("turn:127.0.0.1:" + port, "--user", "alice", "--password", "wonderland");
            assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
            assertThat(refused.output())
                    .contains("ok    allocate", "FAIL  relay out", "the allocation it made is deleted");
            daemon.awaitOutput("allocation deleted", 10);
            assertThat(daemon.terminate()).isZero();
        }
    }

    @Test
    void aDrainingRelayIsNamedAsDrainingWithItsAlternateIfItNamesOne() throws Exception {
        for (boolean withAlternate : new boolean[] {false, true}) {
            java.util.List<String> flags = new java.util.ArrayList<>(java.util.List.of("--drain-timeout", "30"));
            if (withAlternate) {
                flags.addAll(java.util.List.of("--alternate-server", "127.0.0.1:3479"));
            }
            try (DaemonProcess daemon = DaemonProcess.startRelay(0, flags.toArray(String[]::new));
                    TurnClient live = new TurnClient(daemon.listener("udp"), "alice", "wonderland", "example.org")) {
                live.allocate(600); // keeps the drain going
                daemon.sigterm();
                daemon.awaitOutput("draining", 10);
                Interop.Result draining = probe(
                        "turn:127.0.0.1:" + daemon.listener("udp").getPort(),
                        "--user",
                        "alice",
                        "--password",
                        "wonderland");
                assertThat(draining.exitCode()).as(draining.output()).isEqualTo(1);
                assertThat(draining.output())
                        .contains(
                                withAlternate
                                        ? "FAIL  allocate: the relay is draining (300 Try Alternate): new allocations"
                                                + " go to 127.0.0.1:3479"
                                        : "FAIL  allocate: the relay is draining and names no alternate (508")
                        .doesNotContain("no relay port free");
                live.tearDown();
                assertThat(daemon.awaitExit(10)).isZero();
            }
        }
    }

    private static int count(String text, String what) {
        return text.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }
}
