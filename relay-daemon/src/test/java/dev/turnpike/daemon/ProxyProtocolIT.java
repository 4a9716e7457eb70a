package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP and TLS listeners behind a load balancer that speaks PROXY protocol v2 (--proxy-protocol): the client the
 * header names is the client the relay answers about, a connection without a header is closed and counted, and
 * one from outside --proxy-protocol-from is refused, since its header could name anyone.
 */
class ProxyProtocolIT {
    /** PROXY, TCP over IPv4, from 203.0.113.9:41000 (the client behind the balancer) to the relay's 3478. */
    private static final byte[] HEADER = HexFormat.of()
            .parseHex("0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "cb007109" + "7f000001" + "a028" + "0d96");

    private static final InetSocketAddress NAMED = new InetSocketAddress(ip("203.0.113.9"), 41000);

    @TempDir
    Path dir;

    private static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] binding() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        StunWriter writer = new StunWriter(new MessageIntegrity());
        writer.begin(buffer, 0, StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_REQUEST), 1, 7);
        return writer.toBytes();
    }

    private static boolean closedByRelay(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private DaemonProcess relay(int tcp, int tls, String... more) throws Exception {
        TestCertificate certificate = TestCertificate.make(dir);
        List<String> args = new ArrayList<>(List.of(
                "--listen-tcp",
                "127.0.0.1:" + tcp,
                "--listen-tls",
                "127.0.0.1:" + tls,
                "--tls-cert",
                certificate.cert().toString(),
                "--tls-key",
                certificate.key().toString(),
                "--proxy-protocol",
                "127.0.0.1:" + tcp + ",127.0.0.1:" + tls,
                "--metrics-listen",
                "127.0.0.1:0",
                "--log-level",
                "debug"));
        args.addAll(List.of(more));
        return DaemonProcess.startRelay(tcp, args.toArray(String[]::new));
    }

    @Test
    void overTcpTheClientTheHeaderNamesIsTheOneTheRelayAnswersAbout() throws Exception {
        int tcp = Interop.testPort("127.0.0.1");
        int tls = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(tcp, tls);
                Socket socket = new Socket("127.0.0.1", tcp)) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            // the header in two pieces, the second with the request behind it in the same segment
            out.write(HEADER, 0, 7);
            out.flush();
            Thread.sleep(50);
            byte[] rest = new byte[HEADER.length - 7 + binding().length];
            System.arraycopy(HEADER, 7, rest, 0, HEADER.length - 7);
            System.arraycopy(binding(), 0, rest, HEADER.length - 7, binding().length);
            out.write(rest);
            out.flush();
            StunMessage answer = StunStreams.read(socket.getInputStream());
            assertThat(answer.xorAddress(answer.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                    .isEqualTo(NAMED);
            assertThat(daemon.terminate()).isZero();
        }
    }

    @Test
    void overTlsTheHeaderComesBeforeTheHandshake() throws Exception {
        int tcp = Interop.testPort("127.0.0.1");
        int tls = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(tcp, tls);
                Socket plain = new Socket("127.0.0.1", tls)) {
            plain.getOutputStream().write(HEADER);
            plain.getOutputStream().flush();
            javax.net.ssl.SSLSocket socket =
                    TlsClients.trustingAnything().getSocketFactory().createSocket(plain, "127.0.0.1", tls, true)
                                    instanceof javax.net.ssl.SSLSocket s
                            ? s
                            : null;
            assertThat(socket).isNotNull();
            socket.setSoTimeout(5_000);
            socket.startHandshake();
            socket.getOutputStream().write(binding());
            socket.getOutputStream().flush();
            StunMessage answer = StunStreams.read(socket.getInputStream());
            assertThat(answer.xorAddress(answer.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                    .isEqualTo(NAMED);
            socket.close();
            assertThat(daemon.terminate()).isZero();
        }
    }

    @Test
    void aConnectionWithoutAHeaderIsClosedAndCounted() throws Exception {
        int tcp = Interop.testPort("127.0.0.1");
        int tls = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(tcp, tls);
                Socket socket = new Socket("127.0.0.1", tcp)) {
            socket.setSoTimeout(5_000);
            String base = Scrape.base(daemon);
            socket.getOutputStream().write(binding()); // a client that reached the listener around the balancer
            socket.getOutputStream().flush();
            assertThat(closedByRelay(socket)).isTrue();
            Scrape.await(base, "turnpike_connections_closed_total{reason=\"proxy_header\"} 1");
        }
    }

    @Test
    void aConnectionThatNeverFinishesItsHeaderIsClosedAtTheFirstMessageTimeout() throws Exception {
        int tcp = Interop.testPort("127.0.0.1");
        int tls = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(tcp, tls, "--first-message-timeout", "1");
                Socket silent = new Socket("127.0.0.1", tcp);
                Socket partial = new Socket("127.0.0.1", tcp)) {
            silent.setSoTimeout(5_000);
            partial.setSoTimeout(5_000);
            String base = Scrape.base(daemon);
            partial.getOutputStream().write(HEADER, 0, 7);
            partial.getOutputStream().flush();
            assertThat(closedByRelay(silent)).as("nothing sent").isTrue();
            assertThat(closedByRelay(partial)).as("half a header sent").isTrue();
            Scrape.await(base, "turnpike_connections_closed_total{reason=\"first_message_timeout\"} 2");
        }
    }

    @Test
    void aConnectionFromOutsideProxyProtocolFromIsRefused() throws Exception {
        int tcp = Interop.testPort("127.0.0.1");
        int tls = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = relay(tcp, tls, "--proxy-protocol-from", "10.0.0.0/8");
                Socket socket = new Socket("127.0.0.1", tcp)) {
            socket.setSoTimeout(5_000);
            String base = Scrape.base(daemon);
            Scrape.await(base, "turnpike_connections_refused_total 1"); // closed as it arrived, before any byte
            try {
                socket.getOutputStream().write(HEADER);
                socket.getOutputStream().write(binding());
                socket.getOutputStream().flush();
            } catch (IOException e) {
                // a reset: the relay closed it already
            }
            assertThat(closedByRelay(socket)).isTrue();
        }
    }
}
