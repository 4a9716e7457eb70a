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
        int port = Interop.freeUdpPort("127.0.0.1");
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
        int port = Interop.freeUdpPort("127.0.0.1");
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
}
