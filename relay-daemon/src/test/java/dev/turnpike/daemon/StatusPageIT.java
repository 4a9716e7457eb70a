package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The status page of the packaged relay in headless Chromium, at a phone's width: it loads with no console error
 * and no other request, shows the allocation a test client holds, and its screenshot is kept in
 * target/test-artifacts/status-page.png.
 */
class StatusPageIT {
    private static final Path SCRIPT_DIR = Path.of("src/test/webrtc");
    private static final Path SCREENSHOT = Path.of("target/test-artifacts/status-page.png");

    @Test
    void chromiumShowsTheStatusPageWithTheAllocationATestClientHolds() throws Exception {
        Path node = Interop.tool("node", "nodejs");
        Interop.tool("npm", "npm");
        assertThat(Interop.tool("chromium", "chromium")).isEqualTo(Path.of("/usr/bin/chromium"));
        WebRtcInteropIT.installPlaywright();
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(port, "--metrics-listen", "127.0.0.1:0");
                TurnClient alice =
                        new TurnClient(new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org");
                TurnClient mallory = new TurnClient(
                        new InetSocketAddress("127.0.0.1", port), "alice", "not-her-password", "example.org")) {
            InetSocketAddress relayed = alice.allocate();
            assertThat(mallory.ask(
                                    dev.turnpike.core.stun.StunMethod.ALLOCATE,
                                    w -> w.addByteAndReserved(
                                            dev.turnpike.core.stun.StunAttribute.REQUESTED_TRANSPORT, 17))
                            .errorCode())
                    .isEqualTo(401);
            String page = daemon.metricsUrl().replace("/metrics", "/");
            Files.createDirectories(SCREENSHOT.getParent());
            Files.deleteIfExists(SCREENSHOT);
            Interop.Result result = Interop.run(
                    120,
                    node.toString(),
                    SCRIPT_DIR.resolve("status-page.mjs").toString(),
                    page,
                    SCREENSHOT.toString());
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output())
                    .contains("\"ok\":true", "\"errors\":[]", "\"status\":200")
                    .contains("\"requests\":[\"" + page + "\"]")
                    .contains("alice", "127.0.0.1:" + relayed.getPort(), "1 allocation(s)", "serving")
                    .contains("wrong password, unknown user")
                    .contains("udp 127.0.0.1:" + port);
            assertThat(result.output()).containsPattern("\"scrollWidth\":(3[0-8]\\d|390)[,}]");
            assertThat(Files.size(SCREENSHOT)).as("the screenshot kept").isPositive();
            assertThat(daemon.terminate()).isZero();
        }
    }
}
