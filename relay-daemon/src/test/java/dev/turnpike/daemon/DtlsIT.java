package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the DTLS listener (turnutils_uclient's relaying over it is in TurnClientInteropIT): ClientHellos from
 * many sources that never come back with the cookie, ClientHellos with cookies the relay never gave, and a
 * handshake that stops half-way; no state is kept for the first two, the third is resent by the loop and ended at
 * --first-message-timeout, and a UDP client is answered throughout.
 */
class DtlsIT {
    @TempDir
    Path dir;

    private DaemonProcess relay(int port, int dtlsPort) throws Exception {
        TestCertificate certificate = TestCertificate.make(dir);
        return DaemonProcess.startRelay(
                port,
                "--listen-dtls",
                "127.0.0.1:" + dtlsPort,
                "--tls-cert",
                certificate.cert().toString(),
                "--tls-key",
                certificate.key().toString(),
                "--first-message-timeout",
                "3",
                "--metrics-listen",
                "127.0.0.1:0");
    }

    /** A DTLS client's engine, trusting any certificate: the JDK's, so that the test drives each flight by hand. */
    private static SSLEngine clientEngine() throws Exception {
        SSLContext context = SSLContext.getInstance("DTLS");
        context.init(null, trustAll(), null);
        SSLEngine engine = context.createSSLEngine("127.0.0.1", 1);
        engine.setUseClientMode(true);
        return engine;
    }

    private static javax.net.ssl.TrustManager[] trustAll() {
        return new javax.net.ssl.TrustManager[] {
            new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {}

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {}

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }
        };
    }

    /** The packets {@code engine} has to send now (its flight), each wrapped once. */
    private static List<ByteBuffer> flight(SSLEngine engine) throws Exception {
        List<ByteBuffer> packets = new ArrayList<>();
        for (int i = 0; i < 20 && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP; i++) {
            ByteBuffer out = ByteBuffer.allocate(65_536);
            engine.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            if (out.hasRemaining()) {
                packets.add(out);
            }
            for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                task.run();
            }
        }
        return packets;
    }

    /** The next datagram for {@code channel}, or null after {@code timeoutMs}. */
    private static ByteBuffer receive(DatagramChannel channel, long timeoutMs) throws Exception {
        channel.configureBlocking(false);
        ByteBuffer in = ByteBuffer.allocate(65_536);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (channel.receive(in) != null) {
                return in.flip();
            }
            Thread.sleep(5);
        }
        return null;
    }

    @Test
    void helloFloodsAndForgedCookiesKeepNothingAndAStalledHandshakeIsResentThenEndedWhileUdpIsAnswered()
            throws Exception {
        int port = Interop.testPort("127.0.0.1");
        int dtlsPort = Interop.testPort("127.0.0.1");
        InetSocketAddress dtls = new InetSocketAddress("127.0.0.1", dtlsPort);
        try (DaemonProcess daemon = relay(port, dtlsPort);
                TurnClient udp = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null)) {
            String base = Scrape.base(daemon);

            // 200 sources, each a ClientHello without a cookie, never back: each answered, none remembered
            List<DatagramChannel> sources = new ArrayList<>();
            try {
                for (int i = 0; i < 200; i++) {
                    DatagramChannel source = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                    sources.add(source);
                    SSLEngine engine = clientEngine();
                    engine.beginHandshake();
                    for (ByteBuffer packet : flight(engine)) {
                        source.send(packet, dtls);
                    }
                }
                int answered = 0;
                for (DatagramChannel source : sources) {
                    answered += receive(source, 2_000) != null ? 1 : 0;
                }
                assertThat(answered).isEqualTo(200);
            } finally {
                for (DatagramChannel source : sources) {
                    source.close();
                }
            }
            Scrape.await(base, "turnpike_dtls_hello_verify_requests_total 200\n");
            assertThat(Scrape.http(base, "GET", "/metrics").body()).contains("turnpike_dtls_sessions 0\n");
            assertThat(udp.binding(1_000)).isNotNull();

            // ClientHellos with cookies the relay never gave: answered with a HelloVerifyRequest again, nothing kept
            for (int i = 0; i < 50; i++) {
                try (DatagramChannel source = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                    byte[] forged = dev.turnpike.daemon.dtls.ClientHelloFixtures.withCookie(new byte[32], i);
                    source.send(ByteBuffer.wrap(forged), dtls);
                }
            }
            assertThat(udp.binding(1_000)).isNotNull();
            Scrape.await(base, "turnpike_dtls_sessions 0\n");

            // a real handshake (the JDK's client) that stops after the server's flight: resent, then ended
            try (DatagramChannel client = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                SSLEngine engine = clientEngine();
                engine.beginHandshake();
                for (ByteBuffer packet : flight(engine)) {
                    client.send(packet, dtls);
                }
                ByteBuffer verify = receive(client, 2_000);
                assertThat(verify).as("a HelloVerifyRequest").isNotNull();
                engine.unwrap(verify, ByteBuffer.allocate(65_536));
                for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                    task.run();
                }
                for (ByteBuffer packet : flight(engine)) { // the ClientHello with the cookie
                    client.send(packet, dtls);
                }
                ByteBuffer serverFlight = receive(client, 2_000);
                assertThat(serverFlight).as("the server's flight").isNotNull();
                Scrape.await(base, "turnpike_dtls_sessions 1\n");
                // and the client says nothing more: the loop's sweep sends the flight again
                List<ByteBuffer> more = new ArrayList<>();
                for (ByteBuffer b = receive(client, 2_500); b != null && more.size() < 50; b = receive(client, 2_500)) {
                    more.add(b);
                }
                assertThat(more)
                        .as("the flight resent while the client is silent")
                        .isNotEmpty();
            }
            Scrape.await(base, "turnpike_dtls_sessions_closed_total{reason=\"handshake_timeout\"} 1\n");
            String metrics = Scrape.await(base, "turnpike_dtls_sessions 0\n");
            assertThat(metrics).contains("turnpike_dtls_handshakes_total 0\n");
            assertThat(udp.binding(1_000)).isNotNull();
            assertThat(daemon.terminate()).isZero();
        }
    }

    /** The serial number of the certificate a DTLS 1.2 handshake with openssl's client is shown on {@code port}. */
    private static String servedSerial(int port) throws Exception {
        Interop.Result result = Interop.run(
                20,
                "sh",
                "-c",
                "openssl s_client -dtls1_2 -connect 127.0.0.1:" + port
                        + " </dev/null 2>/dev/null | openssl x509 -noout -serial");
        assertThat(result.output()).as("openssl's DTLS client").startsWith("serial=");
        return result.output().strip();
    }

    private static String serial(TestCertificate certificate) throws Exception {
        return Interop.run(10, "openssl", "x509", "-in", certificate.cert().toString(), "-noout", "-serial")
                .output()
                .strip();
    }

    @Test
    void aNewCertificateIsServedToNewDtlsSessionsAfterSighupAsOverTls() throws Exception {
        TestCertificate a = TestCertificate.make(Files.createDirectories(dir.resolve("a")));
        TestCertificate b = TestCertificate.make(Files.createDirectories(dir.resolve("b")));
        Path live = Files.createDirectories(dir.resolve("live"));
        TestCertificate served = new TestCertificate(live.resolve("cert.pem"), live.resolve("key.pem"));
        Files.copy(a.key(), served.key());
        Files.copy(a.cert(), served.cert());
        int port = Interop.testPort("127.0.0.1");
        int dtlsPort = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(
                port,
                "--listen-dtls",
                "127.0.0.1:" + dtlsPort,
                "--tls-cert",
                served.cert().toString(),
                "--tls-key",
                served.key().toString())) {
            assertThat(servedSerial(dtlsPort)).isEqualTo(serial(a));
            Files.copy(b.key(), served.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(b.cert(), served.cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            daemon.signal("HUP");
            daemon.awaitOutput("reloaded: changed --tls-cert (its certificate)", 10);
            assertThat(servedSerial(dtlsPort)).isEqualTo(serial(b));
            assertThat(daemon.terminate()).isZero();
        }
    }
}
