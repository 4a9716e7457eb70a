package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code turnpike import-coturn} on coturn's own example configuration as Debian ships it, as it comes and with the
 * lines an operator would uncomment; the configuration it prints runs a relay that {@code turnpike probe} passes,
 * over UDP and TCP.
 */
class ImportCoturnIT {
    private static final Path EXAMPLE = Path.of("/usr/share/doc/coturn/examples/etc/turnserver.conf");

    @TempDir
    Path dir;

    private static Path example() {
        if (!Files.isReadable(EXAMPLE)) {
            String message = EXAMPLE + " not found (apt-get install -y coturn)";
            if (Boolean.getBoolean("interop.required")) {
                fail(message + "; interop.required=true");
            }
            Assumptions.abort(message);
        }
        return EXAMPLE;
    }

    private static Interop.Result turnpike(String... args) throws Exception {
        return Interop.run(60, Interop.javaCommand(args).toArray(String[]::new));
    }

    @Test
    void theShippedExampleImportsWithEachActiveOptionAccountedFor() throws Exception {
        Interop.Result imported = turnpike("import-coturn", example().toString());
        assertThat(imported.exitCode()).as(imported.output()).isZero();
        assertThat(imported.output())
                .contains("# Turnpike configuration imported from coturn's " + EXAMPLE)
                .contains("listen-tcp = 0.0.0.0:3478")
                .contains("# syslog: Turnpike logs to standard output")
                .contains("# no-rfc5780: nothing to turn off")
                .contains("# no-stun-backward-compatibility: the default")
                .contains("# response-origin-only-with-rfc5780: nothing to turn off")
                .contains("option(s) not mapped");
        Interop.Result missing =
                turnpike("import-coturn", dir.resolve("absent.conf").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.output()).contains("absent.conf: cannot read it");
    }

    @Test
    void theExampleWithTheUsualLinesUncommentedRunsARelayThatAProbePasses() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        Interop.PortRange relayPorts = Interop.relayPorts(50);
        String[] range = relayPorts.flag().split("-");
        String conf = Files.readString(example(), StandardCharsets.UTF_8)
                .replace("#listening-port=3478", "listening-port=" + port)
                .replace("#listening-ip=172.17.19.101", "listening-ip=127.0.0.1")
                .replace("#min-port=49152", "min-port=" + range[0])
                .replace("#max-port=65535", "max-port=" + range[1])
                .replace("#fingerprint", "fingerprint")
                .replace("#lt-cred-mech", "lt-cred-mech")
                .replace("#realm=mycompany.org", "realm=example.org")
                .replace("#user=username1:password1", "user=alice:wonderland")
                .replace("#user-quota=0", "user-quota=10")
                .replace("#total-quota=0", "total-quota=100")
                .replace("#no-tls\n", "no-tls\n")
                .replace("#no-dtls", "no-dtls")
                .replace("#stale-nonce=600", "stale-nonce=600")
                .replace("#allow-loopback-peers", "allow-loopback-peers");
        Path coturn = dir.resolve("turnserver.conf");
        Files.writeString(coturn, conf, StandardCharsets.UTF_8);
        Interop.Result imported = turnpike("import-coturn", coturn.toString());
        assertThat(imported.exitCode()).as(imported.output()).isZero();
        Path config = dir.resolve("turnpike.properties");
        // the command's own summary goes to standard error: keep only the configuration
        Files.writeString(
                config,
                imported.output()
                        .lines()
                        .filter(l -> !l.startsWith("turnpike import-coturn:"))
                        .reduce("", (a, b) -> a + b + "\n"));
        assertThat(Files.readString(config))
                .contains("listen = 127.0.0.1:" + port, "listen-tcp = 127.0.0.1:" + port)
                .contains("relay-ports = " + relayPorts.flag(), "realm = example.org", "user = alice:wonderland")
                .contains("allow-peer = 127.0.0.0/8", "user-quota = 10", "max-allocations = 100");

        try (DaemonProcess daemon = DaemonProcess.start("--config", config.toString())) {
            daemon.awaitOutput("listening", 10);
            for (String url : new String[] {"turn:127.0.0.1:" + port, "turn:127.0.0.1:" + port + "?transport=tcp"}) {
                Interop.Result probe = turnpike("probe", url, "--user", "alice", "--password", "wonderland");
                assertThat(probe.exitCode())
                        .as(url + "\n" + probe.output() + "\n" + daemon.output())
                        .isZero();
                assertThat(probe.output()).contains("probe: all passed");
            }
            assertThat(daemon.terminate()).isZero();
        }
    }
}
