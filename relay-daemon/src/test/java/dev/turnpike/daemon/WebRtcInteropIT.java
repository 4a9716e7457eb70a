package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Headless Chromium's WebRTC stack, limited to relay candidates, opens a data channel between two peer
 * connections through Turnpike and echoes messages over it (src/test/webrtc/relay-only.mjs). No
 * --allow-peer: two clients of the same relay reach each other's relayed addresses by default, delivered inside
 * the relay (or through the host to another worker), as the stop line's counters show. Then again with one of the two reaching the relay only over TCP, or
 * only over TLS (turns:), while the other stays on UDP: the relayed side is UDP either way. All of it with one
 * worker and with two (--workers 2), where the two peers' allocations may be on different workers.
 */
class WebRtcInteropIT {
    private static final Path SCRIPT_DIR = Path.of("src/test/webrtc");

    @TempDir
    Path dir;

    /** playwright-core only (no browser download), the version pinned in package-lock.json, once. */
    static synchronized void installPlaywright() throws Exception {
        if (!Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core"))) {
            Path npm = Interop.tool("npm", "npm");
            Interop.Result install = Interop.run(
                    300,
                    npm.toString(),
                    "ci",
                    "--prefix",
                    SCRIPT_DIR.toString(),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error");
            assertThat(install.exitCode()).as("npm ci: " + install.output()).isZero();
        }
    }

    @ParameterizedTest(name = "the first peer over {0}, {1} worker(s)")
    @CsvSource({"udp, 1", "tcp, 1", "tls, 1", "udp, 2", "tcp, 2", "tls, 2"})
    void chromiumRelaysADataChannelThroughTurnpikeWithRelayCandidatesOnly(String transport, int workers)
            throws Exception {
        Path node = Interop.tool("node", "nodejs");
        Path chromium = Interop.tool("chromium", "chromium");
        assertThat(chromium).isEqualTo(Path.of("/usr/bin/chromium"));
        installPlaywright();
        int port = Interop.testPort("127.0.0.1");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
                "--listen",
                "127.0.0.1:" + port,
                "--relay-ports",
                Interop.relayPorts(1000).flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--workers",
                String.valueOf(workers),
                "--metrics-listen",
                "127.0.0.1:0"));
        String urlOfA = "";
        switch (transport) {
            case "tcp" -> {
                args.addAll(java.util.List.of("--listen-tcp", "127.0.0.1:" + port));
                urlOfA = "turn:127.0.0.1:" + port + "?transport=tcp";
            }
            case "tls" -> {
                TestCertificate certificate = TestCertificate.make(dir);
                args.addAll(java.util.List.of(
                        "--listen-tls",
                        "127.0.0.1:" + port,
                        "--tls-cert",
                        certificate.cert().toString(),
                        "--tls-key",
                        certificate.key().toString()));
                urlOfA = "turns:127.0.0.1:" + port + "?transport=tcp";
            }
            default -> {}
        }
        try (DaemonProcess daemon = DaemonProcess.start(args.toArray(String[]::new))) {
            String metrics = daemon.metricsUrl();
            Interop.Result result = Interop.run(
                    180,
                    node.toString(),
                    SCRIPT_DIR.resolve("relay-only.mjs").toString(),
                    "127.0.0.1",
                    String.valueOf(port),
                    "alice",
                    "wonderland",
                    urlOfA,
                    metrics);
            assertThat(result.output()).contains("\"ok\":true", "\"echoed\":50", "\"type\":\"relay\"");
            if (!transport.equals("udp")) {
                assertThat(result.output()).contains("\"relayProtocol\":\"" + transport + "\"");
            }
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(daemon.terminate()).isZero();
            String log = daemon.output();
            // Drops while the call ran, read before either side hung up.
            java.util.regex.Matcher drops = java.util.regex.Pattern.compile("\"dropsDuringCall\":(\\{[^}]*})")
                    .matcher(result.output());
            assertThat(drops.find()).as(result.output()).isTrue();
            for (String reason : new String[] {"peer_denied", "send_error", "malformed"}) {
                assertThat(drops.group(1)).as(result.output()).contains("\"" + reason + "\":0");
            }
            // At teardown one side's allocation ends first, and what the other still sends to its relayed address
            // is refused (no allocation holds the port any more): not counted against the call.
            assertThat(log).contains("allocations=2").doesNotContain("packetsClientToPeer=0 ");
            // each side's peer is the other's relayed address: delivered inside the relay (one worker), or through
            // the host to the other worker's bound address, never as a datagram to a peer outside
            java.util.regex.Matcher sameRelay = java.util.regex.Pattern.compile(
                            "sameRelayInside=(\\d+) sameRelayThroughHost=(\\d+)")
                    .matcher(log);
            assertThat(sameRelay.find()).as(log).isTrue();
            long inside = Long.parseLong(sameRelay.group(1));
            long throughHost = Long.parseLong(sameRelay.group(2));
            assertThat(inside + throughHost).as(log).isPositive();
            if (workers == 1) {
                assertThat(throughHost).as(log).isZero();
            }
        }
    }
}
