package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Headless Chromium's WebRTC stack, limited to relay candidates, opens a data channel between two peer
 * connections through Turnpike and echoes messages over it (src/test/webrtc/relay-only.mjs). No
 * --allow-peer: two clients of the same relay reach each other's relayed addresses by default, since those are
 * the relay's own address on relay ports.
 */
class WebRtcInteropIT {
    private static final Path SCRIPT_DIR = Path.of("src/test/webrtc");

    @Test
    void chromiumRelaysADataChannelThroughTurnpikeWithRelayCandidatesOnly() throws Exception {
        Path node = Interop.tool("node", "nodejs");
        Path npm = Interop.tool("npm", "npm");
        Path chromium = Interop.tool("chromium", "chromium");
        assertThat(chromium).isEqualTo(Path.of("/usr/bin/chromium"));
        if (!Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core"))) {
            // playwright-core only (no browser download): the version pinned in package-lock.json.
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
        int port = Interop.freeUdpPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start(
                "--listen",
                "127.0.0.1:" + port,
                "--relay-ports",
                Interop.relayPorts(1000).flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland")) {
            Interop.Result result = Interop.run(
                    180,
                    node.toString(),
                    SCRIPT_DIR.resolve("relay-only.mjs").toString(),
                    "127.0.0.1",
                    String.valueOf(port),
                    "alice",
                    "wonderland");
            assertThat(result.output()).contains("\"ok\":true", "\"echoed\":50", "\"type\":\"relay\"");
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(daemon.terminate()).isZero();
            String log = daemon.output();
            assertThat(log)
                    .contains("allocations=2", "droppedPEER_DENIED=0", "droppedSEND_ERROR=0")
                    .doesNotContain("packetsClientToPeer=0 ");
        }
    }
}
