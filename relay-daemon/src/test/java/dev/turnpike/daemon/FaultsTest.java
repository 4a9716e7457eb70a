package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.BatchReceiver;
import dev.turnpike.daemon.loop.KernelTransmitter;
import dev.turnpike.daemon.loop.SocketOptions;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.Test;

/** Faults the loop meets in production, each handled, counted, and costing nothing beyond itself. */
class FaultsTest {
    private static final int CHANNEL = 0x4000;

    private static DatagramChannel peer() throws Exception {
        DatagramChannel peer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        peer.socket().setSoTimeout(2_000);
        return peer;
    }

    private static void echoOnce(TurnClient client, DatagramChannel peer, String what) throws Exception {
        assertThat(client.sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[] {1, 2, 3})))
                .isTrue();
        ByteBuffer got = ByteBuffer.allocate(64);
        java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[64], 64);
        peer.socket().receive(packet);
        peer.send(ByteBuffer.wrap(packet.getData(), 0, packet.getLength()), packet.getSocketAddress());
        assertThat(client.receive(2_000)).as(what).isNotNull();
        got.clear();
    }

    @Test
    void aPeerPortThatAnswersWithIcmpUnreachableCostsOnlyItsOwnPackets() throws Exception {
        try (LoopFixture fixture = new LoopFixture();
                TurnClient client = fixture.client();
                DatagramChannel live = peer()) {
            client.allocate();
            InetSocketAddress closed;
            try (DatagramChannel gone = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                closed = (InetSocketAddress) gone.getLocalAddress();
            }
            client.createPermission(closed);
            for (int i = 0; i < 50; i++) {
                client.sendIndication(closed, new byte[] {9}); // the kernel answers each with port unreachable
            }
            client.channelBind(CHANNEL, (InetSocketAddress) live.getLocalAddress());
            echoOnce(client, live, "an echo through the same relay socket after 50 ICMP errors");
            assertThat(fixture.seen().loop().internalErrors).isZero();
            assertThat(fixture.alive()).isTrue();
        }
    }

    @Test
    void aRelaySocketFailingUnderneathLosesOnlyItsPacketsAndClosesCleanlyLater() throws Exception {
        ScriptedTransmitter kernel = new ScriptedTransmitter();
        try (LoopFixture fixture = new LoopFixture(kernel, SocketOptions.KERNEL_DEFAULTS, b -> b);
                TurnClient broken = fixture.client();
                TurnClient healthy = fixture.client();
                DatagramChannel peer = peer()) {
            broken.allocate();
            healthy.allocate();
            broken.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalAddress());
            healthy.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalAddress());
            kernel.closeNextRelaySocket();
            broken.sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[] {1}));
            LoopFixture.awaitTrue(() -> fixture.seen().loop().sendErrors == 1, 2_000, "one send error counted");
            broken.sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[] {2}));
            echoOnce(healthy, peer, "the healthy allocation relays");
            assertThat(broken.ask(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0))
                            .errorCode())
                    .as("deleting the broken allocation")
                    .isEqualTo(-1);
            assertThat(healthy.binding(2_000)).isEqualTo(healthy.localAddress());
            LoopFixture.awaitTrue(() -> fixture.seen().loop().sendErrors == 2, 2_000, "two send errors counted");
            LoopFixture.Seen seen = fixture.seen();
            assertThat(seen.loop().sendErrors).isEqualTo(2);
            assertThat(seen.loop().closeErrors).isZero();
            assertThat(fixture.alive()).isTrue();
        }
    }

    @Test
    void aFullRelayPortRangeIs508UntilAPortIsFreed() throws Exception {
        try (LoopFixture fixture = new LoopFixture(new KernelTransmitter(), SocketOptions.KERNEL_DEFAULTS, 1, b -> b);
                TurnClient first = fixture.client();
                TurnClient second = fixture.client()) {
            first.allocate(); // the one relay port
            assertThat(second.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                            .errorCode())
                    .isEqualTo(508);
            LoopFixture.awaitTrue( // the loop publishes at the end of the iteration that answered
                    () -> fixture.seen().core().allocationsRefusedNoPort() == 1, 2_000, "the 508 counted");
            first.ask(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0));
            assertThat(second.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                            .errorCode())
                    .as("once the port is released")
                    .isEqualTo(-1);
        }
    }

    @Test
    void aPeerFloodingOneAllocationIsCutAtItsBandwidthAndOthersAreStillServed() throws Exception {
        try (LoopFixture fixture = new LoopFixture(
                        new KernelTransmitter(), SocketOptions.KERNEL_DEFAULTS, b -> b.bandwidth(800_000, 0));
                TurnClient victim = fixture.client();
                TurnClient other = fixture.client();
                DatagramChannel flooder = peer();
                DatagramChannel peer = peer()) {
            InetSocketAddress flooded = victim.allocate();
            victim.createPermission((InetSocketAddress) flooder.getLocalAddress());
            other.allocate();
            other.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalAddress());
            ByteBuffer chunk = ByteBuffer.allocate(1_000);
            for (int i = 0; i < 2_000; i++) { // 2 MB at once against 100 kB/s
                flooder.send(chunk.clear(), flooded);
                if (i % 200 == 199) {
                    echoOnce(other, peer, "the other allocation during the flood");
                }
            }
            LoopFixture.awaitTrue(
                    () -> fixture.seen().core().dropped(RelayCounters.Drop.BANDWIDTH) > 0,
                    2_000,
                    "bandwidth drops counted");
            assertThat(fixture.seen().core().packetsPeerToClient()).isLessThan(2_000);
            assertThat(fixture.alive()).isTrue();
        }
    }

    @Test
    void aBatchReadWhileBuffersAreFullWaitsInItsBufferOnceTheQueueReachesItsBound() throws Exception {
        ScriptedTransmitter kernel = new ScriptedTransmitter();
        long bound = 5_000;
        try (LoopFixture fixture = new LoopFixture(
                        kernel, new SocketOptions(1 << 20, 0, false, true, bound, true, false, true), b -> b);
                TurnClient client = fixture.client();
                DatagramChannel peer = peer()) {
            assumeBatchedReceive();
            InetSocketAddress relayed = client.allocate();
            client.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalAddress());
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch reached = kernel.holdNextSendThenFill(release);
            peer.send(ByteBuffer.allocate(1_000), relayed); // its forward holds the loop in the transmitter
            assertThat(reached.await(2, java.util.concurrent.TimeUnit.SECONDS))
                    .as("the loop reached the held send")
                    .isTrue();
            for (int i = 0; i < 20; i++) {
                peer.send(ByteBuffer.allocate(1_000), relayed); // lined up: read in one batch, sent into full buffers
            }
            release.countDown();
            LoopFixture.awaitTrue(() -> fixture.seen().loop().batchesHeld > 0, 5_000, "a batch held back");
            LoopFixture.Seen held = fixture.seen();
            assertThat(held.loop().queuedBytesHighWater)
                    .as("queued: the bound plus one datagram's output at most")
                    .isLessThanOrEqualTo(bound + 1_004);
            assertThat(held.loop().datagramsReceived)
                    .as("the held datagrams are not handled yet")
                    .isLessThan(4 + 21);

            kernel.full(false);
            int delivered = 1;
            while (delivered < 21 && client.receive(2_000) != null) {
                delivered++;
            }
            assertThat(delivered)
                    .as("every datagram the relay read reaches the client")
                    .isEqualTo(21);
            assertThat(fixture.seen().core().droppedTotal()).isZero();
        }
    }

    private static void assumeBatchedReceive() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                BatchReceiver.AVAILABLE, "only recvmmsg reads a batch (not available here)");
    }

    @Test
    void theClockJumpingAheadExpiresAllocationsAndTheLoopGoesOn() throws Exception {
        try (LoopFixture fixture = new LoopFixture();
                TurnClient client = fixture.client()) {
            client.allocate();
            LoopFixture.awaitTrue(() -> fixture.seen().core().allocationsLive() == 1, 2_000, "one allocation");
            fixture.loop.advanceClock(3_700_000_000_000L); // past any lifetime
            LoopFixture.awaitTrue(() -> fixture.seen().core().allocationsLive() == 0, 3_000, "the allocation expired");
            assertThat(client.binding(2_000)).isEqualTo(client.localAddress());
            assertThat(client.ask(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 600))
                            .errorCode())
                    .as("nothing left to refresh")
                    .isEqualTo(437);
        }
    }
}
