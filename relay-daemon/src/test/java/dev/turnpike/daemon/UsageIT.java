package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Usage by tag through the packaged jar: credentials minted with {@code turnpike credentials --tag}, an allocation
 * relaying with them, and its bytes in GET /usage (JSON and CSV) and in its JSON line at its end, not in /metrics.
 */
class UsageIT {
    private static final Pattern CREDENTIALS = Pattern.compile("username: (\\S+)\\npassword: (\\S+)\\n");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private static String get(String base, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** {@code count} ChannelData of 4 bytes out to the peer and echoed back. */
    private static void relay(TurnClient client, DatagramSocket peer, int count) throws Exception {
        client.channelBind(0x4001, (InetSocketAddress) peer.getLocalSocketAddress());
        for (int i = 0; i < count; i++) {
            assertThat(client.sendChannelData(0x4001, ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) i})))
                    .isTrue();
            DatagramPacket packet = new DatagramPacket(new byte[64], 64);
            peer.receive(packet);
            peer.send(packet);
            assertThat(client.receive(5_000)).as("echo " + i).isNotNull();
        }
    }

    @Test
    void anAllocationsBytesCountUnderItsCredentialsTagAndNameAndNotInMetrics() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "usage-secret\n");
        Interop.Result minted = Interop.run(
                30,
                Interop.javaCommand(
                                "credentials",
                                "--secret-file",
                                secret.toString(),
                                "--user",
                                "carol",
                                "--tag",
                                "customer-42")
                        .toArray(String[]::new));
        assertThat(minted.exitCode()).as(minted.output()).isZero();
        Matcher credentials = CREDENTIALS.matcher(minted.output());
        assertThat(credentials.find()).as(minted.output()).isTrue();
        assertThat(credentials.group(1)).matches("\\d+:carol:customer-42");
        Interop.Result badTag = Interop.run(
                30,
                Interop.javaCommand(
                                "credentials", "--secret-file", secret.toString(), "--user", "carol", "--tag", "a:b")
                        .toArray(String[]::new));
        assertThat(badTag.exitCode()).isEqualTo(2);
        assertThat(badTag.output()).contains("--tag 'a:b'");

        int port = Interop.testPort("127.0.0.1");
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        try (DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:" + port,
                        "--relay-ports",
                        Interop.relayPorts(50).flag(),
                        "--realm",
                        "example.org",
                        "--auth-secret-file",
                        secret.toString(),
                        "--user",
                        "alice:wonderland",
                        "--allow-peer",
                        "127.0.0.0/8",
                        "--metrics-listen",
                        "127.0.0.1:0",
                        "--log-format",
                        "json");
                TurnClient carol = new TurnClient(server, credentials.group(1), credentials.group(2), "example.org");
                TurnClient alice = new TurnClient(server, "alice", "wonderland", "example.org");
                DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5_000);
            String base = daemon.metricsUrl().replace("/metrics", "");
            carol.allocate();
            relay(carol, peer, 3);
            carol.refresh(0); // ended: counted in the table from now on
            alice.allocate();
            relay(alice, peer, 1); // live: counted as it stands

            String json = get(base, "/usage");
            assertThat(json)
                    .contains("{\"tag\":\"customer-42\",\"allocations\":1,")
                    .containsPattern(
                            "\"tag\":\"customer-42\",\"allocations\":1,\"allocationSeconds\":\\d+,\"packets\":6,\"bytes\":24}")
                    .containsPattern(
                            "\"tag\":\"\\(none\\)\",\"allocations\":1,\"allocationSeconds\":\\d+,\"packets\":2,\"bytes\":8}")
                    .containsPattern(
                            "\"name\":\"carol\",\"allocations\":1,\"allocationSeconds\":\\d+,\"packets\":6,\"bytes\":24}")
                    .contains("\"name\":\"alice\"");
            assertThat(get(base, "/usage?format=csv"))
                    .startsWith("kind,key,other,allocations,allocation_seconds,packets,bytes\n")
                    .containsPattern("(?m)^tag,customer-42,false,1,\\d+,6,24$")
                    .containsPattern("(?m)^name,carol,false,1,\\d+,6,24$");
            daemon.awaitOutput("\"allocation deleted\"", 10);
            assertThat(daemon.output())
                    .as("the line a log pipeline sums")
                    .containsPattern(
                            "\"message\":\"allocation deleted\".*\"bytesToPeers\":12.*\"bytesToClient\":12.*\"name\":\"carol\",\"tag\":\"customer-42\"");
            assertThat(get(base, "/metrics")).doesNotContain("customer-42").doesNotContain("carol");
            assertThat(daemon.terminate()).isZero();
        }
    }
}
