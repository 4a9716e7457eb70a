package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What attackers try, black-box over UDP against the packaged daemon with its default limits and policy,
 * listening on both loopback families. Only the listen addresses, the relay-port block and two users are given.
 */
class SecuritySuiteIT {
    private static final String REALM = "example.org";
    /** Loopback and every other denied range, in the spellings that slip past naive checks. */
    private static final String[] DENIED_PEERS = {
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "10.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "192.168.1.1",
        "192.0.0.1",
        "198.18.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::7f00:1",
        "2002:7f00:1::",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "fd00:ec2::254",
        "fec0::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1"
    };

    private static DaemonProcess daemon;
    private static InetSocketAddress server4;
    private static InetSocketAddress server6;
    /** Receives whatever the relay might let through to loopback. */
    private static DatagramChannel target4;

    private static DatagramChannel target6;

    @BeforeAll
    static void startWithDefaults() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        server4 = new InetSocketAddress("127.0.0.1", port);
        server6 = new InetSocketAddress("::1", port);
        daemon = DaemonProcess.start(
                "--listen",
                "127.0.0.1:" + port + ",[::1]:" + port,
                "--relay-ports",
                Interop.relayPorts(600).flag(),
                "--realm",
                REALM,
                "--user",
                "alice:wonderland,bob:builder,carol:c4rol,dave:d4ve");
        target4 = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        target6 = DatagramChannel.open().bind(new InetSocketAddress("::1", 0));
        target4.configureBlocking(false);
        target6.configureBlocking(false);
    }

    @AfterAll
    static void stop() throws Exception {
        target4.close();
        target6.close();
        if (daemon != null) {
            assertThat(daemon.terminate()).as("exit code after SIGTERM").isZero();
            daemon.close();
        }
    }

    private static TurnClient alice(InetSocketAddress server) throws Exception {
        return new TurnClient(server, "alice", "wonderland", REALM);
    }

    private static InetSocketAddress loopback(int n) {
        return new InetSocketAddress("127.0." + (n / 250) + "." + (n % 250 + 2), 0);
    }

    @ParameterizedTest(name = "over IPv{0}")
    @ValueSource(ints = {4, 6})
    void everyDeniedPeerSpellingGets403AndNothingIsRelayed(int family) throws Exception {
        try (TurnClient client = alice(family == 4 ? server4 : server6)) {
            client.allocateDual();
            int port = ((InetSocketAddress) target4.getLocalAddress()).getPort();
            int port6 = ((InetSocketAddress) target6.getLocalAddress()).getPort();
            int channel = 0x4000;
            for (String text : DENIED_PEERS) {
                InetAddress ip = InetAddress.getByName(text);
                InetSocketAddress peer = new InetSocketAddress(ip, text.contains(":") ? port6 : port);
                StunMessage permission = client.ask(
                        StunMethod.CREATE_PERMISSION, w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
                // The relay's own addresses take a permission (an IP, no port): other allocations' relay ports
                // live there. Every other port of theirs is refused below, as is every other denied address.
                // (::ffff:127.0.0.1 is 127.0.0.1 itself: the JDK and the kernel read it so.)
                boolean own = ip.equals(server4.getAddress()) || ip.equals(server6.getAddress());
                assertThat(permission.errorCode())
                        .as("CreatePermission to " + text)
                        .isEqualTo(own ? -1 : 403);
                int number = channel++;
                StunMessage bind = client.ask(
                        StunMethod.CHANNEL_BIND,
                        w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) number) << 16)
                                .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
                assertThat(bind.errorCode()).as("ChannelBind to " + text).isEqualTo(403);
                client.sendIndication(peer, new byte[] {1, 2, 3});
                client.sendChannelData(number, ByteBuffer.wrap(new byte[] {4, 5, 6}));
            }
            // The relay's own listening address, by a Send, too: TURN inside TURN is refused.
            client.sendIndication(family == 4 ? server4 : server6, new byte[] {7});
            assertThat(client.binding(2_000)).as("still answering").isEqualTo(client.localAddress());
            assertThat(target4.receive(ByteBuffer.allocate(64)))
                    .as("relayed to 127.0.0.1")
                    .isNull();
            assertThat(target6.receive(ByteBuffer.allocate(64)))
                    .as("relayed to ::1")
                    .isNull();
            refresh(client, 0);
        }
    }

    @Test
    void anAllocationFloodStopsAtTheUserQuota() throws Exception {
        List<TurnClient> clients = new ArrayList<>();
        try {
            int granted = 0;
            int refused = 0;
            for (int i = 0; i < 105; i++) { // carol from 105 source addresses: the user quota is 100
                TurnClient client = new TurnClient(server4, loopback(i), "carol", "c4rol", REALM);
                clients.add(client);
                int code = allocate(client);
                if (code == -1) {
                    granted++;
                } else {
                    assertThat(code).as("Allocate " + i).isEqualTo(486);
                    refused++;
                }
            }
            assertThat(granted).isEqualTo(100);
            assertThat(refused).isEqualTo(5);
            try (TurnClient bob = new TurnClient(server4, loopback(300), "bob", "builder", REALM)) {
                assertThat(allocate(bob))
                        .as("another user is not held back by carol's quota")
                        .isEqualTo(-1);
                refresh(bob, 0);
            }
        } finally {
            deleteAndClose(clients);
        }
    }

    @Test
    void anAllocationFloodFromOneAddressStopsAtTheClientQuota() throws Exception {
        List<TurnClient> clients = new ArrayList<>();
        InetSocketAddress source = loopback(500);
        try {
            int granted = 0;
            for (int i = 0; i < 101; i++) { // alice 60 and dave 41 times, all from one IP: the client quota is 100
                TurnClient client = i < 60
                        ? new TurnClient(server4, source, "alice", "wonderland", REALM)
                        : new TurnClient(server4, source, "dave", "d4ve", REALM);
                clients.add(client);
                // each new socket needs a nonce, and 401s to one source are rate-limited: ask patiently
                StunMessage challenge = null;
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (challenge == null && System.nanoTime() < deadline) {
                    challenge = client.askOnce(
                            StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17), 200);
                }
                assertThat(challenge).as("a 401 within 20 s").isNotNull();
                client.nonce(challenge.string(StunAttribute.NONCE));
                int code = client.askOnce(
                                StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                        .errorCode();
                if (i < 100) {
                    assertThat(code).as("Allocate " + i).isEqualTo(-1);
                    granted++;
                } else {
                    assertThat(code).as("Allocate 101 from one address").isEqualTo(486);
                }
            }
            assertThat(granted).isEqualTo(100);
        } finally {
            deleteAndClose(clients);
        }
    }

    private static int allocate(TurnClient client) throws Exception {
        return client.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                .errorCode();
    }

    private static void deleteAndClose(List<TurnClient> clients) throws Exception {
        for (TurnClient client : clients) {
            client.askOnce(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0), 1_000); // frees the quota
            client.close();
        }
    }

    @Test
    void anUnauthenticatedFloodFromOneSourceGetsFewerBytesBackThanItSent() throws Exception {
        try (DatagramChannel attacker = DatagramChannel.open().bind(loopback(400))) {
            attacker.configureBlocking(false);
            // Allocate without credentials, 28 bytes: the smallest a browser sends (REQUESTED-TRANSPORT only)
            byte[] request = {
                0,
                3,
                0,
                8,
                0x21,
                0x12,
                (byte) 0xA4,
                0x42,
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
                9,
                10,
                11,
                12,
                0,
                0x19,
                0,
                4,
                17,
                0,
                0,
                0
            };
            long sentBytes = 0;
            long receivedBytes = 0;
            int replies = 0;
            ByteBuffer in = ByteBuffer.allocate(2048);
            long startNs = System.nanoTime();
            for (int i = 0; i < 500; i++) { // 500 at about 1000 a second
                request[8] = (byte) i;
                attacker.send(ByteBuffer.wrap(request), server4);
                sentBytes += request.length;
                long nextNs = startNs + (i + 1) * 1_000_000L;
                while (System.nanoTime() < nextNs) {
                    if (attacker.receive(in.clear()) != null) {
                        replies++;
                        receivedBytes += in.position();
                    }
                }
            }
            long quietUntil = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < quietUntil) {
                if (attacker.receive(in.clear()) != null) {
                    replies++;
                    receivedBytes += in.position();
                }
            }
            double seconds = (System.nanoTime() - startNs) / 1e9;
            assertThat(replies).as("replies to 500 requests").isPositive();
            assertThat(replies)
                    .as("burst 20 and 10/s over %.1f s", seconds)
                    .isLessThanOrEqualTo(20 + (int) (10 * seconds) + 1);
            assertThat(receivedBytes).as("bytes back vs %d sent", sentBytes).isLessThan(sentBytes);
        }
        try (TurnClient other = new TurnClient(server4, loopback(401), "alice", "wonderland", REALM)) {
            assertThat(other.binding(2_000)).as("other sources are answered").isEqualTo(other.localAddress());
        }
    }

    @Test
    void anAlteredNonceOrOneIssuedToAnotherClientGets438() throws Exception {
        try (TurnClient a = alice(server4);
                TurnClient b = alice(server4)) {
            a.allocate();
            String nonce = a.nonce();
            char last = nonce.charAt(nonce.length() - 1);
            a.nonce(nonce.substring(0, nonce.length() - 1) + (last == '0' ? '1' : '0'));
            assertThat(a.askOnce(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 600))
                            .errorCode())
                    .as("altered nonce")
                    .isEqualTo(438);
            a.nonce(nonce.substring(0, nonce.length() - 1) + Character.toUpperCase(last));
            if (Character.isLetter(last)) {
                assertThat(a.askOnce(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 600))
                                .errorCode())
                        .as("a hex digit in another case")
                        .isEqualTo(438);
            }
            refresh(a, 0);
            b.nonce(nonce); // a's nonce, from b's 5-tuple
            assertThat(allocateOnce(b)).as("a nonce issued to another client").isEqualTo(438);
        }
    }

    @Test
    void anotherFiveTupleCannotUseRefreshOrDeleteSomeoneElsesAllocation() throws Exception {
        try (TurnClient owner = alice(server4);
                TurnClient intruder = alice(server4);
                TurnClient peer = new TurnClient(server4, "bob", "builder", REALM)) {
            // With default policy loopback is no peer; another allocation's relayed address is.
            InetSocketAddress peerRelayed = peer.allocate();
            InetSocketAddress ownerRelayed = owner.allocate();
            owner.channelBind(0x4000, peerRelayed);
            peer.createPermission(ownerRelayed);
            assertThat(owner.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {1, 2, 3})))
                    .isTrue();
            assertThat(peer.receive(2_000))
                    .as("the owner's data reaches the peer")
                    .isNotNull();

            intruder.binding(2_000);
            assertThat(intruder.askOnce(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0))
                            .errorCode())
                    .as("no nonce yet")
                    .isEqualTo(401);
            assertThat(refresh(intruder, 0))
                    .as("Refresh to delete from another 5-tuple")
                    .isEqualTo(437);
            assertThat(intruder.ask(
                                    StunMethod.CREATE_PERMISSION,
                                    w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peerRelayed))
                            .errorCode())
                    .isEqualTo(437);
            intruder.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {6, 6, 6}));
            intruder.sendIndication(peerRelayed, new byte[] {6, 6, 6});
            assertThat(owner.binding(2_000)).isEqualTo(owner.localAddress()); // the relay has read them by now
            assertThat(peer.receive(300)).as("the intruder's data relayed").isNull();
            assertThat(refresh(owner, 600))
                    .as("the owner's allocation lives on")
                    .isEqualTo(-1);
            refresh(owner, 0);
            refresh(peer, 0);
        }
    }

    @Test
    void malformedDatagramsOfEveryKindLeaveTheRelayAnswering() throws Exception {
        try (TurnClient client = new TurnClient(server4, "bob", "builder", REALM)) {
            client.allocate();
            List<byte[]> junk = new ArrayList<>();
            junk.add(new byte[0]);
            junk.add(new byte[] {0});
            junk.add(new byte[] {0, 1, 0, 0, 0x21, 0x12, (byte) 0xA4, 0x42}); // truncated header
            junk.add(header(0x0001, 400, 0)); // length past the end
            junk.add(header(0x0001, 3, 3)); // length not a multiple of 4
            junk.add(new byte[] {0x40, 0, 0x7F, (byte) 0xFF, 1, 2}); // ChannelData longer than the datagram
            junk.add(new byte[] {0x4F, (byte) 0xFF, 0, 0}); // an unbound channel, empty
            byte[] afterIntegrity = header(0x0003, 24 + 8, 24 + 8);
            ByteBuffer.wrap(afterIntegrity, 20, 32)
                    .putShort((short) 0x0008)
                    .putShort((short) 20)
                    .position(44)
                    .putShort((short) 0x0019)
                    .putShort((short) 4);
            junk.add(afterIntegrity); // attributes after MESSAGE-INTEGRITY
            int attributes = (65_507 - 20) / 4;
            junk.add(header(0x0001, attributes * 4, attributes * 4)); // 16,371 empty attributes of type 0
            junk.add(header(0x0111, 0, 0)); // a response class from a client
            junk.add(new byte[65_507]); // the largest datagram, all zeros
            for (byte[] datagram : junk) {
                client.sendRaw(datagram);
            }
            assertThat(client.binding(2_000)).as("answering after junk").isEqualTo(client.localAddress());
            assertThat(refresh(client, 600)).as("the allocation still works").isEqualTo(-1);
            refresh(client, 0);
        }
    }

    private static byte[] header(int type, int length, int bodyBytes) {
        ByteBuffer b = ByteBuffer.allocate(20 + bodyBytes);
        b.putShort((short) type)
                .putShort((short) length)
                .putInt(0x2112A442)
                .putLong(7)
                .putInt(9);
        return b.array();
    }

    private static int refresh(TurnClient client, long lifetime) throws Exception {
        return client.ask(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, lifetime))
                .errorCode();
    }

    /** One signed Allocate with the nonce the client holds, no retry: the error code it gets (-1: success). */
    private static int allocateOnce(TurnClient client) throws Exception {
        return client.askOnce(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                .errorCode();
    }
}
