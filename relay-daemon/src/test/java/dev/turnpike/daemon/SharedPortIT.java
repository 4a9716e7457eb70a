package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One TLS port, two worlds (--https-backend): curl fetches pages over HTTP/1.1 and HTTP/2 from nginx behind the
 * relay, which sees each client in a PROXY v2 header, while headless Chromium relays a data channel over
 * {@code turns:} on the same port; openssl negotiates ALPN. Then the backend's failures: down, and accepting but
 * never reading, with UDP clients answered throughout.
 */
class SharedPortIT {
    @TempDir
    Path dir;

    private DaemonProcess relay(int port, InetSocketAddress http1, InetSocketAddress h2, String... more)
            throws Exception {
        TestCertificate certificate = TestCertificate.make(dir);
        List<String> args = new ArrayList<>(List.of(certificate.tlsListener("127.0.0.1:" + port)));
        args.addAll(List.of("--https-backend", http1.getHostString() + ":" + http1.getPort()));
        if (h2 != null) {
            args.addAll(List.of("--https-backend-h2", h2.getHostString() + ":" + h2.getPort()));
        }
        args.addAll(List.of("--metrics-listen", "127.0.0.1:0", "--max-connections", "1000", "--log-level", "debug"));
        args.addAll(List.of(more));
        return DaemonProcess.startRelay(port, args.toArray(String[]::new));
    }

    private static Interop.Result curl(String... args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(Interop.tool("curl", "curl").toString(), "-sS", "-k"));
        command.addAll(List.of(args));
        return Interop.run(60, command.toArray(String[]::new));
    }

    @Test
    void oneTlsPortServesAWebSiteOverHttp1AndHttp2AndTurnToChromium() throws Exception {
        Path node = Interop.tool("node", "nodejs");
        Interop.tool("chromium", "chromium");
        WebRtcInteropIT.installPlaywright();
        int port = Interop.testPort("127.0.0.1");
        try (WebServer web = WebServer.start(dir);
                DaemonProcess daemon = relay(port, web.http1(), web.h2(), "--https-backend-proxy-protocol")) {
            Files.writeString(web.root.resolve("index.html"), "the web site\n");
            byte[] large = new byte[8 << 20];
            new java.util.Random(7).nextBytes(large);
            Files.write(web.root.resolve("large.bin"), large);
            String site = "https://127.0.0.1:" + port;

            // HTTP/1.1 from 127.0.0.2: nginx sees that client, and its port, in the PROXY header
            Interop.Result http1 = curl(
                    "--http1.1",
                    "--interface",
                    "127.0.0.2",
                    "-w",
                    "\n%{http_version} %{local_port}",
                    site + "/index.html");
            assertThat(http1.exitCode()).as(http1.output()).isZero();
            assertThat(http1.output()).startsWith("the web site\n");
            String localPort = http1.output()
                    .strip()
                    .lines()
                    .reduce((a, b) -> b)
                    .orElseThrow()
                    .split(" ")[1];
            assertThat(http1.output()).contains("\n1.1 ");
            assertThat(web.accessLog()).contains("127.0.0.2:" + localPort + " 127.0.0.1 HTTP/1.1 GET 200 13");

            // HTTP/2, chosen by ALPN, to the backend's HTTP/2 port
            Interop.Result http2 = curl("--http2", "-w", "\n%{http_version}", site + "/index.html");
            assertThat(http2.output()).as(http2.output()).isEqualTo("the web site\n\n2");
            assertThat(web.accessLog()).contains("127.0.0.1 HTTP/2.0 GET 200 13");

            // 8 MiB down over HTTP/2 and 4 MiB up over HTTP/1.1, byte for byte
            Path got = dir.resolve("got.bin");
            Interop.Result download = curl("--http2", "-o", got.toString(), site + "/large.bin");
            assertThat(download.exitCode()).as(download.output()).isZero();
            assertThat(Files.readAllBytes(got)).isEqualTo(large);
            Path body = dir.resolve("body.bin");
            Files.write(body, java.util.Arrays.copyOf(large, 4 << 20));
            Interop.Result upload =
                    curl("--http1.1", "-T", body.toString(), "-w", "%{http_code}", site + "/uploads/body.bin");
            assertThat(upload.output()).as(upload.output()).isEqualTo("201");
            assertThat(Files.readAllBytes(web.root.resolve("uploads/body.bin")))
                    .isEqualTo(java.util.Arrays.copyOf(large, 4 << 20));

            // ALPN: stun.turn when offered; h2 for the web; nothing when nothing is offered
            assertThat(alpn(port, "stun.turn")).contains("ALPN protocol: stun.turn");
            assertThat(alpn(port, "h2,http/1.1")).contains("ALPN protocol: h2");
            assertThat(alpn(port, null)).contains("No ALPN negotiated");

            // and TURN on the same port: Chromium's WebRTC stack, no ALPN, relayed over turns:
            Interop.Result chromium = Interop.run(
                    180,
                    node.toString(),
                    Path.of("src/test/webrtc/relay-only.mjs").toString(),
                    "127.0.0.1",
                    String.valueOf(port),
                    "alice",
                    "wonderland",
                    "turns:127.0.0.1:" + port + "?transport=tcp",
                    daemon.metricsUrl());
            assertThat(chromium.output()).contains("\"ok\":true", "\"echoed\":50", "\"relayProtocol\":\"tls\"");
            assertThat(chromium.exitCode()).as(chromium.output()).isZero();

            String base = Scrape.base(daemon);
            // the four curl connections, none of the openssl ones (they sent nothing) nor Chromium's
            Scrape.await(base, "turnpike_https_backend_connections_total 4\n");
            String metrics = Scrape.http(base, "GET", "/metrics").body();
            assertThat(counter(metrics, "turnpike_https_backend_bytes_total{direction=\"to_backend\"}"))
                    .isGreaterThan(4 << 20);
            assertThat(counter(metrics, "turnpike_https_backend_bytes_total{direction=\"from_backend\"}"))
                    .isGreaterThan(8 << 20);
            assertThat(metrics).contains("turnpike_connections_closed_total{reason=\"malformed\"} 0\n");
            assertThat(metrics).contains("turnpike_connections_closed_total{reason=\"backend_unreachable\"} 0\n");
        }
    }

    /** What openssl s_client prints of the handshake offering {@code protocols} (null: no ALPN), sending nothing. */
    private static String alpn(int port, String protocols) throws Exception {
        String offer = protocols == null ? "" : " -alpn " + protocols;
        Interop.Result result = Interop.run(
                30,
                "bash",
                "-c",
                Interop.tool("openssl", "openssl") + " s_client -connect 127.0.0.1:" + port + offer + " </dev/null");
        return result.output();
    }

    private static long counter(String metrics, String series) {
        return metrics.lines()
                .filter(l -> l.startsWith(series + " "))
                .mapToLong(l -> Long.parseLong(l.substring(series.length() + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + series + " in:\n" + metrics));
    }

    @Test
    void aBackendThatIsDownGetsTheClientACleanCloseCountedAndTurnGoesOn() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        int nothing = Interop.testPort("127.0.0.1"); // free: nothing listens there
        try (DaemonProcess daemon = relay(port, new InetSocketAddress("127.0.0.1", nothing), null);
                TurnClient udp = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null);
                TurnClient tls = TurnClient.overTls(
                        new InetSocketAddress("127.0.0.1", port),
                        null,
                        false,
                        "alice",
                        "wonderland",
                        "example.org",
                        5_000)) {
            for (int i = 0; i < 3; i++) {
                Interop.Result refused = curl("--http1.1", "https://127.0.0.1:" + port + "/");
                assertThat(refused.exitCode()).as(refused.output()).isEqualTo(52); // an empty reply: closed cleanly
            }
            Scrape.await(Scrape.base(daemon), "turnpike_connections_closed_total{reason=\"backend_unreachable\"} 3\n");
            assertThat(udp.binding(1_000)).isNotNull();
            assertThat(tls.allocate()).isNotNull(); // TURN over TLS on the same port is untouched
        }
    }

    @Test
    void aBackendThatAcceptsAndNeverReadsIsClosedAtTheIdleTimeoutWhileUdpClientsAreAnswered() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (ServerSocket deaf = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
                DaemonProcess daemon = relay(
                        port,
                        new InetSocketAddress("127.0.0.1", deaf.getLocalPort()),
                        null,
                        "--https-backend-idle-timeout",
                        "2");
                TurnClient udp = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null)) {
            List<Socket> held = new ArrayList<>();
            // threads of their own: the common pool may have one thread (two cores), and the acceptor blocks
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
            CompletableFuture<Void> acceptor = CompletableFuture.runAsync(
                    () -> {
                        try {
                            held.add(deaf.accept()); // and never read
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    },
                    threads);
            SSLSocket client =
                    (SSLSocket) TlsClients.trustingAnything().getSocketFactory().createSocket("127.0.0.1", port);
            // writes until the relay closes the connection: 64 MiB at most, far past every buffer on the way
            CompletableFuture<Long> writer = CompletableFuture.supplyAsync(
                    () -> {
                        long written = 0;
                        try (client) {
                            OutputStream out = client.getOutputStream();
                            out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n".getBytes());
                            byte[] chunk = new byte[64 * 1024];
                            while (written < 64L << 20) {
                                out.write(chunk);
                                written += chunk.length;
                            }
                        } catch (IOException expected) {
                            // the relay closed it
                        }
                        return written;
                    },
                    threads);
            // the loop is never held by the stalled passage: UDP clients are answered all along
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!writer.isDone() && System.nanoTime() < deadline) {
                assertThat(udp.binding(1_000)).isNotNull();
                Thread.sleep(200);
            }
            long written = writer.get(60, TimeUnit.SECONDS);
            assertThat(written).isLessThan(64L << 20);
            acceptor.get(10, TimeUnit.SECONDS);
            Scrape.await(Scrape.base(daemon), "turnpike_connections_closed_total{reason=\"backend_idle\"} 1\n");
            assertThat(udp.binding(1_000)).isNotNull();
            for (Socket s : held) {
                s.close();
            }
            threads.shutdownNow();
        }
    }
}
