package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.sys.Addresses;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The packaged daemon's --metrics-listen, scraped over HTTP while a client relays through it. */
class MetricsIT {
    private static final Pattern METRICS_URL = Pattern.compile("metrics=(http://127\\.0\\.0\\.1:\\d+)/metrics");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> get(String base, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aScrapeShowsTheAllocationAndThePacketsItRelayed() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:" + port,
                        "--relay-ports",
                        Interop.relayPorts(100).flag(),
                        "--realm",
                        "example.org",
                        "--user",
                        "alice:wonderland",
                        "--allow-peer",
                        "127.0.0.0/8",
                        "--metrics-listen",
                        "127.0.0.1:0");
                TurnClient client =
                        new TurnClient(new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org");
                DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Matcher url = METRICS_URL.matcher(daemon.output());
            assertThat(url.find()).as(daemon.output()).isTrue();
            String base = url.group(1);
            assertThat(get(base, "/healthz").body()).isEqualTo("ok\n");

            client.allocate();
            client.channelBind(0x4001, (InetSocketAddress) peer.getLocalSocketAddress());
            peer.setSoTimeout(5_000);
            for (int i = 0; i < 5; i++) {
                assertThat(client.sendChannelData(0x4001, ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) i})))
                        .isTrue();
                DatagramPacket packet = new DatagramPacket(new byte[64], 64);
                peer.receive(packet);
                peer.send(packet); // back to where it came from: the relay port
                assertThat(client.receive(5_000)).as("echo " + i).isNotNull();
            }

            // The loop publishes its counters about once a second: wait for them (at most 10 s).
            String metrics = "";
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline
                    && !metrics.contains("turnpike_relayed_packets_total{direction=\"peer_to_client\"} 5\n")) {
                metrics = get(base, "/metrics").body();
                Thread.sleep(100); // polling a scrape; the condition above is what we wait on
            }
            assertThat(metrics)
                    .contains(
                            "turnpike_allocations 1\n",
                            "turnpike_allocations_created_total 1\n",
                            "turnpike_relayed_packets_total{direction=\"client_to_peer\"} 5\n",
                            "turnpike_relayed_packets_total{direction=\"peer_to_client\"} 5\n",
                            "turnpike_relayed_bytes_total{direction=\"client_to_peer\"} 20\n",
                            "turnpike_dropped_packets_total{reason=\"no_permission\"} 0\n");
            HttpResponse<String> listed = get(base, "/allocations");
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(listed.body())
                    .contains(
                            "\"user\":\"alice\"",
                            "\"client\":\"" + Addresses.format(client.localAddress()) + "\"",
                            "\"channels\":1",
                            "\"packetsToPeers\":5,\"bytesToPeers\":20,\"packetsToClient\":5,\"bytesToClient\":20");
            assertThat(get(base, "/nothing-here").statusCode()).isEqualTo(404);
            assertThat(daemon.terminate()).isZero();
        }
    }
}
