package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Empty datagrams both ways over real sockets. An empty ChannelData (Length 0, RFC 8656 §12.4) or a Send
 * indication with an empty DATA once froze the relay: the kernel took the empty datagram, the JDK said 0, the
 * loop read 0 as "buffer full", queued it, and resent it for ever without reading anything else.
 */
class EmptyDatagramTest {
    private static final int CHANNEL = 0x4000;

    private LoopFixture fixture;
    private TurnClient client;
    private DatagramChannel peer;
    private DatagramChannel otherPeer;
    private InetSocketAddress relayed;

    @BeforeEach
    void allocateWithAChannelAndAPermission() throws Exception {
        fixture = new LoopFixture();
        client = fixture.client();
        peer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        otherPeer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        peer.socket().setSoTimeout(2_000);
        relayed = client.allocate();
        client.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalAddress());
        client.createPermission((InetSocketAddress) otherPeer.getLocalAddress());
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        peer.close();
        otherPeer.close();
        fixture.close();
    }

    @Test
    void anEmptyChannelDataReachesThePeerAsAnEmptyDatagramAndTheRelayStillAnswers() throws Exception {
        client.sendChannelData(CHANNEL, ByteBuffer.allocate(0));
        assertThat(receiveLength(peer)).isZero();
        theRelayAnswersAndItsLoopIsIdle();
    }

    @Test
    void anEmptySendIndicationReachesThePeerAsAnEmptyDatagramAndTheRelayStillAnswers() throws Exception {
        client.sendIndication((InetSocketAddress) peer.getLocalAddress(), new byte[0]);
        assertThat(receiveLength(peer)).isZero();
        theRelayAnswersAndItsLoopIsIdle();
    }

    @Test
    void anEmptyDatagramFromAChannelPeerReachesTheClientAsAnEmptyChannelData() throws Exception {
        peer.send(ByteBuffer.allocate(0), relayed);
        ByteBuffer received = client.receive(2_000);
        assertThat(received).as("ChannelData to the client").isNotNull();
        assertThat(received.remaining()).isEqualTo(4);
        assertThat(received.getShort(0) & 0xFFFF).isEqualTo(CHANNEL);
        assertThat(received.getShort(2)).as("Length").isZero();
        theRelayAnswersAndItsLoopIsIdle();
    }

    @Test
    void anEmptyDatagramFromAPermittedPeerReachesTheClientAsADataIndicationAndTheRelayStillAnswers() throws Exception {
        otherPeer.send(ByteBuffer.allocate(0), relayed);
        ByteBuffer received = client.receive(2_000);
        assertThat(received).as("Data indication to the client").isNotNull();
        assertThat(received.getShort(0)).as("message type: Data indication").isEqualTo((short) 0x0017);
        theRelayAnswersAndItsLoopIsIdle();
    }

    @Test
    void manyEmptyDatagramsEachWayLeaveNothingQueued() throws Exception {
        long before = fixture.seen().loop().datagramsReceived;
        for (int round = 1; round <= 20; round++) {
            for (int i = 0; i < 10; i++) {
                client.sendChannelData(CHANNEL, ByteBuffer.allocate(0));
                client.sendIndication((InetSocketAddress) peer.getLocalAddress(), new byte[0]);
                peer.send(ByteBuffer.allocate(0), relayed);
            }
            // in rounds, so that the kernel's receive buffers (UDP has no backpressure) never overflow
            long expected = before + 30L * round;
            LoopFixture.awaitTrue(
                    () -> fixture.seen().loop().datagramsReceived >= expected,
                    5_000,
                    "the relay read the " + 30 * round + " datagrams sent so far");
        }
        theRelayAnswersAndItsLoopIsIdle();
        assertThat(fixture.seen().loop().sentToPeers).isGreaterThanOrEqualTo(400);
        assertThat(fixture.seen().loop().sendErrors).isZero();
    }

    private void theRelayAnswersAndItsLoopIsIdle() throws Exception {
        assertThat(client.binding(1_000)).isEqualTo(client.localAddress());
        LoopFixture.Seen before = fixture.seen();
        assertThat(before.queuedPackets()).as("packets queued").isZero();
        assertThat(before.suspended()).as("suspended").isFalse();
        // An idle loop wakes about once a second (timers, metrics); a spinning one thousands of times.
        long startNs = System.nanoTime();
        LoopFixture.awaitTrue(() -> System.nanoTime() - startNs > 1_100_000_000L, 2_000, "a second to pass");
        long iterations = fixture.seen().iterations() - before.iterations();
        assertThat(iterations).as("loop iterations in an idle second").isLessThan(20);
    }

    private static int receiveLength(DatagramChannel channel) throws Exception {
        java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[1], 1);
        channel.socket().receive(packet); // SocketTimeoutException after 2 s
        return packet.getLength();
    }
}
