package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RFC 6062 TCP relaying against the packaged relay with our own client, where coturn's cannot go: the peer is a
 * plain socket of the test's, bytes are compared one by one both ways, and the attacks on the new path are made:
 * Connect to denied peers in every spelling, ConnectionBind with a wrong, reused or another user's id, peers that
 * connect without a permission. A UDP client is answered throughout.
 */
class TcpRelayIT {
    private static final String REALM = "example.org";
    private static final int PAYLOAD = 1 << 20;

    private final ExecutorService threads = Executors.newFixedThreadPool(4);
    private int port;
    private DaemonProcess daemon;
    private ServerSocket peer;
    private TurnClient control;
    private TurnClient udp;

    @BeforeEach
    void start() throws Exception {
        port = Interop.testPort("127.0.0.1");
        // only 127.0.0.1 is opened: every other loopback address, and the special ranges, stay refused
        daemon = DaemonProcess.start(
                "--listen",
                "127.0.0.1:" + port,
                "--listen-tcp",
                "127.0.0.1:" + port,
                "--relay-ports",
                Interop.relayPorts(50).flag(),
                "--realm",
                REALM,
                "--user",
                "alice:wonderland",
                "--user",
                "bob:builder",
                "--allow-peer",
                "127.0.0.1/32",
                "--log-level",
                "debug");
        peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        peer.setSoTimeout(5_000);
        control = TurnClient.overTcp(server(), "alice", "wonderland", REALM, 5_000);
        udp = new TurnClient(server(), "alice", "wonderland", REALM);
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        control.close();
        udp.close();
        peer.close();
        assertThat(daemon.terminate()).as(daemon.output()).isZero();
        assertThat(daemon.output()).doesNotContain("internal error");
    }

    private InetSocketAddress server() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private InetSocketAddress peerAddress() {
        return new InetSocketAddress("127.0.0.1", peer.getLocalPort());
    }

    private InetSocketAddress allocateTcp(TurnClient client) throws IOException {
        StunMessage response =
                client.request(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 6));
        return response.xorAddress(response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
    }

    private StunMessage connect(InetSocketAddress to) throws IOException {
        return control.ask(StunMethod.CONNECT, w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, to));
    }

    private static int connectionId(StunMessage response) {
        assertThat(response.errorCode()).as("error").isEqualTo(-1);
        return (int) response.u32Value(StunAttribute.CONNECTION_ID, 0);
    }

    /**
     * A new connection to the relay, and on it a ConnectionBind for {@code id} signed as {@code user} with {@code
     * nonce} (again with the relay's, once, if challenged), {@code pipelined} in the same write; the answer's error
     * code (-1: success) in {@code code[0]}.
     */
    private Socket bind(int id, String user, String password, String nonce, byte[] pipelined, int[] code)
            throws IOException {
        Socket data = new Socket("127.0.0.1", port);
        data.setSoTimeout(5_000);
        StunMessage answer = sendBind(data, id, user, password, nonce, pipelined);
        if (answer.errorCode() == 438 || answer.errorCode() == 401) {
            answer = sendBind(data, id, user, password, answer.string(StunAttribute.NONCE), pipelined);
        }
        code[0] = answer.errorCode();
        return data;
    }

    private StunMessage sendBind(Socket data, int id, String user, String password, String nonce, byte[] pipelined)
            throws IOException {
        StunWriter writer = new StunWriter(new MessageIntegrity());
        ByteBuffer buffer = ByteBuffer.allocate(512);
        writer.begin(buffer, 0, StunMethod.messageType(StunMethod.CONNECTION_BIND, StunMethod.CLASS_REQUEST), id, 1)
                .addU32(StunAttribute.CONNECTION_ID, id & 0xFFFFFFFFL)
                .addString(StunAttribute.USERNAME, user)
                .addString(StunAttribute.REALM, REALM)
                .addString(StunAttribute.NONCE, nonce)
                .addMessageIntegrity(LongTermKey.md5(user, REALM, password));
        byte[] request = writer.toBytes();
        // the request and what follows it in one write: the relay must not read the rest as STUN
        byte[] both = Arrays.copyOf(request, request.length + pipelined.length);
        System.arraycopy(pipelined, 0, both, request.length, pipelined.length);
        data.getOutputStream().write(both);
        return StunStreams.read(data.getInputStream());
    }

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] readFully(InputStream in, int length) throws IOException {
        return in.readNBytes(length);
    }

    /** A megabyte each way at once, compared byte for byte; the first bytes came with the ConnectionBind. */
    private void exchange(Socket data, Socket atPeer, byte[] first) throws Exception {
        byte[] up = random(PAYLOAD, 1);
        byte[] down = random(PAYLOAD, 2);
        Future<byte[]> atPeerRead = threads.submit(() -> readFully(atPeer.getInputStream(), first.length + PAYLOAD));
        Future<byte[]> atClientRead = threads.submit(() -> readFully(data.getInputStream(), PAYLOAD));
        Future<?> upWrite = threads.submit(() -> {
            data.getOutputStream().write(up);
            return null;
        });
        atPeer.getOutputStream().write(down);
        upWrite.get(30, TimeUnit.SECONDS);
        byte[] expected = Arrays.copyOf(first, first.length + PAYLOAD);
        System.arraycopy(up, 0, expected, first.length, PAYLOAD);
        assertThat(atPeerRead.get(30, TimeUnit.SECONDS)).isEqualTo(expected);
        assertThat(atClientRead.get(30, TimeUnit.SECONDS)).isEqualTo(down);
    }

    private static boolean closedWithin(Socket socket, int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** The next message on the control connection, indications too, the relay's log shown if none comes. */
    private StunMessage received() throws IOException {
        ByteBuffer message = control.receive(5_000);
        if (message == null) {
            throw new AssertionError("nothing on the control connection; the relay's log:\n" + daemon.output());
        }
        byte[] copy = new byte[message.remaining()];
        message.get(copy);
        StunMessage stun = new StunMessage();
        assertThat(stun.wrap(ByteBuffer.wrap(copy), 0, copy.length)).isEqualTo(dev.turnpike.core.stun.DecodeStatus.OK);
        return stun;
    }

    private void udpClientIsAnswered() throws IOException {
        assertThat(udp.binding(2_000)).as("a UDP client's Binding").isNotNull();
    }

    @Test
    void aConnectToAPeerRelaysBothWaysFromTheRelayedAddressUntilEitherSideCloses() throws Exception {
        InetSocketAddress relayed = allocateTcp(control);
        int id = connectionId(connect(peerAddress()));
        try (Socket atPeer = peer.accept()) {
            assertThat(atPeer.getRemoteSocketAddress())
                    .as("the peer sees the relayed address")
                    .isEqualTo(relayed);
            byte[] first = "sent with the ConnectionBind".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            int[] code = new int[1];
            try (Socket data = bind(id, "alice", "wonderland", control.nonce(), first, code)) {
                assertThat(code[0]).isEqualTo(-1);
                exchange(data, atPeer, first);
                udpClientIsAnswered();
                atPeer.shutdownOutput(); // the peer is done: its FIN
                assertThat(closedWithin(data, 5_000))
                        .as("the peer closed: so is the data connection")
                        .isTrue();
            }
        }
        // a second connection to the same peer, closed from the client's side this time
        int again = connectionId(connect(peerAddress()));
        try (Socket atPeer = peer.accept()) {
            int[] code = new int[1];
            Socket data = bind(again, "alice", "wonderland", control.nonce(), new byte[0], code);
            assertThat(code[0]).isEqualTo(-1);
            data.close();
            assertThat(closedWithin(atPeer, 5_000))
                    .as("the client closed: so is the peer connection")
                    .isTrue();
        }
    }

    @Test
    void aConnectToADeniedPeerIsRefused403InEverySpellingAndToAnotherFamily443() throws Exception {
        allocateTcp(control);
        for (String denied : List.of(
                "127.0.0.2",
                "127.1.2.3",
                "10.0.0.1",
                "0.0.0.0",
                "169.254.169.254",
                "192.168.1.1",
                "::ffff:127.0.0.2")) {
            StunMessage response = connect(new InetSocketAddress(InetAddress.getByName(denied), 80));
            assertThat(response.errorCode()).as(denied).isEqualTo(403);
        }
        assertThat(connect(server()).errorCode()).as("the relay's own listener").isEqualTo(403);
        assertThat(connect(new InetSocketAddress(InetAddress.getByName("::1"), 80))
                        .errorCode())
                .as("an IPv6 peer of an IPv4 allocation")
                .isEqualTo(443);
        udpClientIsAnswered();
    }

    @Test
    void aConnectToAClosedPortIs447AndASecondToTheSamePeer446() throws Exception {
        allocateTcp(control);
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        assertThat(connect(new InetSocketAddress("127.0.0.1", closedPort)).errorCode())
                .isEqualTo(447);
        connectionId(connect(peerAddress()));
        assertThat(connect(peerAddress()).errorCode()).isEqualTo(446);
        peer.accept().close();
    }

    @Test
    void aConnectionBindWithAWrongReusedOrAnotherUsersIdIsRefused() throws Exception {
        allocateTcp(control);
        int id = connectionId(connect(peerAddress()));
        try (Socket atPeer = peer.accept()) {
            int[] code = new int[1];
            try (Socket wrong = bind(id ^ 0x5A5A, "alice", "wonderland", control.nonce(), new byte[0], code)) {
                assertThat(code[0]).as("an id nobody was given").isEqualTo(400);
                assertThat(closedWithin(wrong, 200))
                        .as("refused, and still a TURN connection")
                        .isFalse();
            }
            try (TurnClient bob = TurnClient.overTcp(server(), "bob", "builder", REALM, 5_000)) {
                StunMessage refused = bob.ask(
                        StunMethod.CONNECTION_BIND, w -> w.addU32(StunAttribute.CONNECTION_ID, id & 0xFFFFFFFFL));
                assertThat(refused.errorCode())
                        .as("alice's connection, bob's credentials")
                        .isEqualTo(441);
            }
            StunMessage onControl = control.ask(
                    StunMethod.CONNECTION_BIND, w -> w.addU32(StunAttribute.CONNECTION_ID, id & 0xFFFFFFFFL));
            assertThat(onControl.errorCode()).as("on the control connection").isEqualTo(400);
            try (Socket data = bind(id, "alice", "wonderland", control.nonce(), new byte[0], code)) {
                assertThat(code[0]).isEqualTo(-1);
                try (Socket reused = bind(id, "alice", "wonderland", control.nonce(), new byte[0], code)) {
                    assertThat(code[0]).as("an id already bound").isEqualTo(400);
                    assertThat(closedWithin(reused, 200)).isFalse();
                }
                // the first binding is untouched by the attempts
                data.getOutputStream().write(new byte[] {7});
                assertThat(atPeer.getInputStream().read()).isEqualTo(7);
            }
        }
        udpClientIsAnswered();
    }

    @Test
    void aPeerConnectsWithAPermissionOnlyAndTheClientBindsWhatItWasOffered() throws Exception {
        InetSocketAddress relayed = allocateTcp(control);
        try (Socket uninvited = new Socket(relayed.getAddress(), relayed.getPort())) {
            assertThat(closedWithin(uninvited, 5_000))
                    .as("no permission: closed at once")
                    .isTrue();
        }
        control.createPermission(peerAddress());
        try (Socket atPeer = new Socket()) {
            atPeer.bind(new InetSocketAddress("127.0.0.1", 0));
            atPeer.connect(relayed, 5_000);
            StunMessage attempt = received();
            assertThat(attempt.method()).isEqualTo(StunMethod.CONNECTION_ATTEMPT);
            assertThat(attempt.messageClass()).isEqualTo(StunMethod.CLASS_INDICATION);
            assertThat(attempt.xorAddress(attempt.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                    .isEqualTo(atPeer.getLocalSocketAddress());
            int id = (int) attempt.u32Value(StunAttribute.CONNECTION_ID, 0);
            int[] code = new int[1];
            try (Socket data = bind(id, "alice", "wonderland", control.nonce(), new byte[] {1, 2, 3}, code)) {
                assertThat(code[0]).isEqualTo(-1);
                exchange(data, atPeer, new byte[] {1, 2, 3});
                // the allocation ends: its connections with it
                control.refresh(0);
                assertThat(closedWithin(data, 5_000))
                        .as("data connection of an ended allocation")
                        .isTrue();
                assertThat(closedWithin(atPeer, 5_000))
                        .as("peer connection of an ended allocation")
                        .isTrue();
            }
        }
        udpClientIsAnswered();
    }
}
