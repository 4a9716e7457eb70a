package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import dev.turnpike.daemon.client.TurnClient;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TURN over TCP and TLS against the packaged relay, fed what real networks and attackers feed it: a message a
 * byte at a time, the largest messages, nothing at all, bytes that are no message, a TLS handshake that never
 * ends, a thousand idle connections. Each bad connection is closed and counted; UDP clients never notice.
 */
class StreamIT {
    @TempDir
    java.nio.file.Path dir;

    /** A raw TCP client speaking STUN on a stream. */
    private static final class StreamClient implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;
        private long tx = 1;

        StreamClient(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(5_000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        byte[] request(int method, Consumer<StunWriter> attributes) {
            ByteBuffer buffer = ByteBuffer.allocate(70_000);
            StunWriter writer = new StunWriter(new dev.turnpike.core.stun.MessageIntegrity());
            writer.begin(buffer, 0, StunMethod.messageType(method, StunMethod.CLASS_REQUEST), tx++, 7);
            attributes.accept(writer);
            return writer.toBytes();
        }

        /** The next STUN message on the stream. */
        StunMessage readStun() throws IOException {
            return StunStreams.read(in);
        }

        /** Whether the relay closed the connection (end of stream or a reset) within the read timeout. */
        boolean closedByRelay() throws IOException {
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void aClientThatDoesNotReadIsClosedAtItsQueueBoundAndCostsNoOneElse() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(port, "--max-connection-queued-bytes", "65536", "--max-bps", "0");
                TurnClient stalled = TurnClient.overTcp(
                        new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org", 5_000);
                java.net.DatagramSocket peer = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                TurnClient udp = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null)) {
            String base = Scrape.base(daemon);
            stalled.receiveBuffer(4_096); // as small as the kernel allows: the queue fills sooner
            InetSocketAddress relayed = stalled.allocate(600);
            stalled.createPermission((InetSocketAddress) peer.getLocalSocketAddress());
            // the client reads no more; the peer sends until the relay gives up on the client (bounded)
            byte[] payload = new byte[1_200];
            String closed = "turnpike_connections_closed_total{reason=\"write_queue_full\"} 1\n";
            String metrics = "";
            for (int burst = 0; burst < 200 && !metrics.contains(closed); burst++) {
                for (int i = 0; i < 500; i++) {
                    peer.send(new java.net.DatagramPacket(payload, payload.length, relayed));
                }
                assertThat(udp.binding(1_000))
                        .as("a UDP client is answered meanwhile")
                        .isNotNull();
                metrics = Scrape.http(base, "GET", "/metrics").body();
            }
            Scrape.await(base, closed);
            Scrape.await(base, "turnpike_allocations_closed_with_connection_total 1\n");
            assertThat(udp.binding(1_000)).isNotNull();
        }
    }

    /** A TLS listener on {@code tlsPort} with {@code certificate}, then {@code more} flags. */
    private static String[] withTls(int tlsPort, TestCertificate certificate, String... more) {
        List<String> args = new ArrayList<>(List.of(certificate.tlsListener("127.0.0.1:" + tlsPort)));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static DaemonProcess relay(int port, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--listen-tcp", "127.0.0.1:" + port, "--metrics-listen", "127.0.0.1:0", "--log-level", "debug"));
        args.addAll(List.of(more));
        return DaemonProcess.startRelay(port, args.toArray(String[]::new));
    }

    @Test
    void aBindingSentOneByteAtATimeIsAnsweredWholeAndSoAreTheLargestMessages() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(port);
                StreamClient client = new StreamClient(port)) {
            byte[] binding = client.request(StunMethod.BINDING, w -> {});
            for (byte b : binding) {
                client.out.write(b);
                client.out.flush();
            }
            StunMessage answer = client.readStun();
            assertThat(answer.messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
            assertThat(answer.xorAddress(answer.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                    .isEqualTo(client.socket.getLocalSocketAddress());

            // the largest ChannelData (no allocation: dropped), then the largest STUN message (a Binding with an
            // attribute it may ignore), then a Binding: all on the same connection, which lives on
            byte[] channelData = new byte[4 + 65_535 + 1];
            channelData[0] = 0x40;
            channelData[2] = (byte) 0xFF;
            channelData[3] = (byte) 0xFF;
            client.out.write(channelData);
            byte[] largest = client.request(
                    StunMethod.BINDING, w -> w.addBytes(0x8FFF, new byte[65_532 - 4])); // comprehension-optional
            assertThat(largest).hasSize(20 + 65_532);
            client.out.write(largest);
            assertThat(client.readStun().messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
            client.out.write(client.request(StunMethod.BINDING, w -> {}));
            assertThat(client.readStun().messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
            String base = Scrape.base(daemon);
            Scrape.await(base, "turnpike_dropped_packets_total{reason=\"no_allocation\"} 1\n");
            assertThat(Scrape.await(base, "turnpike_stream_messages_received_total 4\n"))
                    .contains("turnpike_connections 1\n");
        }
    }

    @Test
    void anEmptyConnectionAndBytesThatAreNoMessageAreClosedAndCounted() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(port)) {
            new StreamClient(port).close(); // nothing at all
            try (StreamClient garbage = new StreamClient(port)) {
                garbage.out.write(new byte[] {(byte) 0xFF, 0, 0, 8, 1, 2, 3, 4});
                garbage.out.flush();
                assertThat(garbage.closedByRelay()).isTrue();
            }
            try (StreamClient oddLength = new StreamClient(port)) {
                // 65,535: past the largest STUN length (65,532), and no multiple of 4
                oddLength.out.write(new byte[] {0, 1, (byte) 0xFF, (byte) 0xFF, 0x21, 0x12, (byte) 0xA4, 0x42});
                assertThat(oddLength.closedByRelay())
                        .as("a STUN length past the maximum")
                        .isTrue();
            }
            String base = Scrape.base(daemon);
            Scrape.await(base, "turnpike_connections_closed_total{reason=\"malformed\"} 2\n");
            Scrape.await(base, "turnpike_connections_closed_total{reason=\"client\"} 1\n");
            assertThat(Scrape.await(base, "turnpike_connections 0\n")).contains("turnpike_internal_errors_total 0\n");
        }
    }

    @Test
    void aClosedConnectionEndsTheAllocationMadeOverIt() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(port)) {
            String base = Scrape.base(daemon);
            try (TurnClient client = TurnClient.overTcp(
                    new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org", 5_000)) {
                client.allocate(600);
                Scrape.await(base, "turnpike_allocations 1\n");
            }
            Scrape.await(base, "turnpike_allocations_closed_with_connection_total 1\n");
            Scrape.await(base, "turnpike_allocations 0\n");
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).contains("allocation closed user=alice");
        }
    }

    @Test
    void idleConnectionsAndATlsHandshakeThatNeverEndsAreClosedWhileUdpIsStillAnswered() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        int tlsPort = Interop.testPort("127.0.0.1");
        TestCertificate certificate = TestCertificate.make(dir);
        int idle = 1_000;
        try (DaemonProcess daemon = relay(
                        port,
                        withTls(tlsPort, certificate, "--first-message-timeout", "3", "--connections-per-ip", "0"));
                TurnClient udp = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null)) {
            String base = Scrape.base(daemon);
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < idle; i++) {
                    sockets.add(new Socket("127.0.0.1", port));
                }
                Socket tls = new Socket("127.0.0.1", tlsPort);
                sockets.add(tls);
                // the start of a ClientHello, and then nothing
                tls.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00});
                Scrape.await(base, "turnpike_connections " + (idle + 1) + "\n");
                for (int i = 0; i < 5; i++) {
                    assertThat(udp.binding(1_000))
                            .as("a Binding over UDP, answered within a second")
                            .isNotNull();
                }
                Scrape.await(base, "turnpike_connections_closed_total{reason=\"first_message_timeout\"} " + (idle + 1));
                Scrape.await(base, "turnpike_connections 0\n");
                assertThat(udp.binding(1_000)).isNotNull();
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            assertThat(daemon.terminate()).isZero();
        }
    }

    /** A TLS connection that trusts whatever certificate it is shown, and says which it was. */
    private static javax.net.ssl.SSLSocket tls(int port) throws Exception {
        javax.net.ssl.SSLContext context = TlsClients.trustingAnything();
        javax.net.ssl.SSLSocket socket =
                (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(5_000);
        socket.startHandshake();
        return socket;
    }

    private static java.math.BigInteger servedSerial(javax.net.ssl.SSLSocket socket) throws Exception {
        return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }

    private static java.math.BigInteger serial(TestCertificate certificate) throws Exception {
        try (var in = Files.newInputStream(certificate.cert())) {
            return ((java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                            .generateCertificate(in))
                    .getSerialNumber();
        }
    }

    /** A Binding over {@code socket}, answered. */
    private static void bindingAnswered(Socket socket) throws Exception {
        byte[] binding = new byte[20];
        binding[1] = 0x01;
        ByteBuffer.wrap(binding).putInt(4, 0x2112A442).putLong(8, 42);
        socket.getOutputStream().write(binding);
        byte[] header = new byte[20];
        new DataInputStream(socket.getInputStream()).readFully(header);
        assertThat(header[0]).isEqualTo((byte) 0x01);
        assertThat(header[1]).isEqualTo((byte) 0x01);
        int length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
        new DataInputStream(socket.getInputStream()).readFully(new byte[length]);
    }

    @Test
    void theTlsListenerAnswersAlpnStunTurnAndACLientOfferingOnlyOtherProtocolsOrNoneStillConnects() throws Exception {
        TestCertificate certificate = TestCertificate.make(dir);
        try (DaemonProcess daemon = DaemonProcess.startRelay(0, certificate.tlsListener("127.0.0.1:0"))) {
            InetSocketAddress tls = daemon.listener("tls");
            String[][] offers = {{"stun.turn"}, {"h2", "stun.turn", "http/1.1"}, {"h2", "http/1.1"}, {}};
            String[] chosen = {"stun.turn", "stun.turn", "", ""};
            for (int i = 0; i < offers.length; i++) {
                try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) TlsClients.trustingAnything()
                        .getSocketFactory()
                        .createSocket(tls.getAddress(), tls.getPort())) {
                    socket.setSoTimeout(5_000);
                    javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
                    parameters.setApplicationProtocols(offers[i]);
                    socket.setSSLParameters(parameters);
                    socket.startHandshake();
                    assertThat(socket.getApplicationProtocol())
                            .as("ALPN offered %s", java.util.Arrays.toString(offers[i]))
                            .isEqualTo(chosen[i]);
                    bindingAnswered(socket);
                }
            }
            assertThat(daemon.terminate()).isZero();
        }
    }

    @Test
    void aNewCertificateIsServedAfterSighupAndAfterItsFilesChangeWhileOpenConnectionsKeepTheirs() throws Exception {
        TestCertificate a = TestCertificate.make(Files.createDirectories(dir.resolve("a")));
        TestCertificate b = TestCertificate.make(Files.createDirectories(dir.resolve("b")));
        TestCertificate c = TestCertificate.make(Files.createDirectories(dir.resolve("c")));
        java.nio.file.Path live = Files.createDirectories(dir.resolve("live"));
        TestCertificate served = new TestCertificate(live.resolve("cert.pem"), live.resolve("key.pem"));
        install(a, served);
        int port = Interop.testPort("127.0.0.1");
        int tlsPort = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(port, withTls(tlsPort, served))) {
            try (javax.net.ssl.SSLSocket first = tls(tlsPort)) {
                assertThat(servedSerial(first)).isEqualTo(serial(a));
                bindingAnswered(first);

                install(b, served);
                daemon.signal("HUP");
                daemon.awaitOutput("reloaded: changed --tls-cert (its certificate)", 10);
                try (javax.net.ssl.SSLSocket second = tls(tlsPort)) {
                    assertThat(servedSerial(second)).isEqualTo(serial(b));
                    bindingAnswered(second);
                }
                bindingAnswered(first); // the open connection keeps its session

                install(c, served); // a renewal on disk, no signal
                daemon.awaitOutput("--tls-cert and --tls-key changed on disk", 30);
                try (javax.net.ssl.SSLSocket third = tls(tlsPort)) {
                    assertThat(servedSerial(third)).isEqualTo(serial(c));
                }
                bindingAnswered(first);
            }
            assertThat(daemon.terminate()).isZero();
        }
    }

    private static void install(TestCertificate from, TestCertificate to) throws IOException {
        Files.copy(from.key(), to.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(from.cert(), to.cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void connectionsPastTheirLimitsAreClosedAsTheyArriveAndCounted() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        int tlsPort = Interop.testPort("127.0.0.1");
        TestCertificate certificate = TestCertificate.make(dir);
        try (DaemonProcess daemon =
                relay(port, withTls(tlsPort, certificate, "--connections-per-ip", "3", "--tls-handshake-rate", "1"))) {
            String base = Scrape.base(daemon);
            List<StreamClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    held.add(new StreamClient(port));
                }
                Scrape.await(base, "turnpike_connections 3\n");
                try (StreamClient fourth = new StreamClient(port)) {
                    assertThat(fourth.closedByRelay())
                            .as("a fourth from the same IP")
                            .isTrue();
                }
            } finally {
                for (StreamClient c : held) {
                    c.close();
                }
            }
            Scrape.await(base, "turnpike_connections 0\n");
            try (javax.net.ssl.SSLSocket first = tls(tlsPort)) {
                bindingAnswered(first);
                try (Socket second = new Socket("127.0.0.1", tlsPort)) {
                    second.setSoTimeout(5_000);
                    int read;
                    try {
                        read = second.getInputStream().read();
                    } catch (IOException reset) {
                        read = -1;
                    }
                    assertThat(read)
                            .as("a second TLS connection within the same second: over --tls-handshake-rate")
                            .isEqualTo(-1);
                }
            }
            Scrape.await(base, "turnpike_connections_refused_total 2\n");
        }
    }

    @Test
    void aTlsListenerWithoutItsCertificateOrWithAnotherKeyDoesNotStart() throws Exception {
        TestCertificate one = TestCertificate.make(Files.createDirectories(dir.resolve("one")));
        TestCertificate other = TestCertificate.make(Files.createDirectories(dir.resolve("other")));
        Interop.Result missing = Interop.run(
                60, Interop.javaCommand("--listen-tls", "127.0.0.1:0").toArray(String[]::new));
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.output().strip())
                .isEqualTo("turnpike: --listen-tls 127.0.0.1:0 (expected: with --tls-cert and --tls-key)");
        Interop.Result mismatched = Interop.run(
                60,
                Interop.javaCommand(
                                "--listen",
                                "127.0.0.1:0",
                                "--relay-ports",
                                "50000-50999",
                                "--listen-tls",
                                "127.0.0.1:0",
                                "--tls-cert",
                                one.cert().toString(),
                                "--tls-key",
                                other.key().toString())
                        .toArray(String[]::new));
        assertThat(mismatched.exitCode()).isEqualTo(2);
        assertThat(mismatched.output().strip())
                .isEqualTo("turnpike: --tls-key " + other.key() + " does not belong to the certificate in --tls-cert "
                        + one.cert());
    }

    @Test
    void channelDataToAStreamClientIsPaddedSoThatWhatFollowsFramesWhole() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.startRelay(0, "--listen-tcp", "127.0.0.1:0");
                TurnClient client =
                        TurnClient.overTcp(daemon.listener("tcp"), "alice", "wonderland", "example.org", 5_000);
                java.nio.channels.DatagramChannel peer =
                        java.nio.channels.DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress relayed = client.allocate(600);
            client.channelBind(0x4000, (InetSocketAddress) peer.getLocalAddress());
            // payloads of 1, 2, 3, 5 and 0 bytes: ChannelData of 5, 6, 7, 9 and 4, each padded to a multiple of 4
            int[] lengths = {1, 2, 3, 5, 0};
            for (int length : lengths) {
                peer.send(ByteBuffer.wrap(new byte[length]), relayed);
                ByteBuffer message = client.receive(5_000);
                assertThat(message)
                        .as("ChannelData of a %d-byte payload", length)
                        .isNotNull();
                assertThat(message.getShort(0) & 0xFFFF).isEqualTo(0x4000);
                assertThat(message.getShort(2) & 0xFFFF).isEqualTo(length);
                assertThat(message.remaining()).isEqualTo(4 + length);
            }
            assertThat(client.binding(5_000))
                    .as("a STUN message after them is still framed where it begins")
                    .isNotNull();
            assertThat(daemon.terminate()).isZero();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "over {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"tcp", "tls"})
    void aBurstOfChannelDataGatheredIntoFewWritesArrivesWholeAndInOrderWhateverTheSizes(String transport)
            throws Exception {
        TestCertificate certificate = transport.equals("tls") ? TestCertificate.make(dir) : null;
        String[] listener = certificate == null
                ? new String[] {"--listen-tcp", "127.0.0.1:0"}
                : certificate.tlsListener("127.0.0.1:0");
        try (DaemonProcess daemon = DaemonProcess.startRelay(0, listener);
                TurnClient client = certificate == null
                        ? TurnClient.overTcp(daemon.listener("tcp"), "alice", "wonderland", "example.org", 5_000)
                        : TurnClient.overTls(
                                daemon.listener("tls"), null, false, "alice", "wonderland", "example.org", 5_000);
                java.nio.channels.DatagramChannel peer =
                        java.nio.channels.DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress relayed = client.allocate(600);
            client.channelBind(0x4000, (InetSocketAddress) peer.getLocalAddress());
            client.receiveBuffer(4 << 20);
            // empty, tiny, around the gathering buffer's 16 KiB (a message that no longer fits beside others, one
            // that fits no buffer) and the largest a datagram carries, sent back to back so that the relay reads
            // many in one pass; each payload filled with its index, so that order and content both show
            int[] lengths = {0, 1, 3, 1_000, 16_380, 2, 16_384, 16_381, 0, 65_000, 5, 0, 40_000, 7, 16_000, 16_000, 1};
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < lengths.length; i++) {
                    byte[] payload = new byte[lengths[i]];
                    java.util.Arrays.fill(payload, (byte) (round * lengths.length + i));
                    peer.send(ByteBuffer.wrap(payload), relayed);
                }
                for (int i = 0; i < lengths.length; i++) {
                    ByteBuffer message = client.receive(5_000);
                    assertThat(message).as("message %d of round %d", i, round).isNotNull();
                    assertThat(message.getShort(0) & 0xFFFF).isEqualTo(0x4000);
                    assertThat(message.getShort(2) & 0xFFFF)
                            .as("message %d of round %d", i, round)
                            .isEqualTo(lengths[i]);
                    for (int at = 4; at < 4 + lengths[i]; at++) {
                        assertThat(message.get(at)).isEqualTo((byte) (round * lengths.length + i));
                    }
                }
            }
            assertThat(client.binding(5_000)).as("a STUN message after them").isNotNull();
            assertThat(daemon.terminate()).isZero();
        }
    }
}
