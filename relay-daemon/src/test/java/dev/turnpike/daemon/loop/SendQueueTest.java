package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.ScriptedTransmitter;
import dev.turnpike.daemon.TosProbe;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The send queue alone, on real loopback sockets. Loopback UDP never blocks a sender, whatever SO_SNDBUF says
 * (the kernel frees the buffer as soon as the datagram is handed over: 100,000 sends of 65,507 bytes with the
 * smallest SO_SNDBUF all succeed), so "full" is played by a {@link ScriptedTransmitter} at the one seam where the
 * kernel answers; everything else is real.
 */
class SendQueueTest {
    private final ScriptedTransmitter kernel = new ScriptedTransmitter();
    private final LoopCounters counters = new LoopCounters();
    private SendQueue queue;
    private UdpSocket from;
    private UdpSocket other;
    private DatagramChannel to;
    private InetSocketAddress destination;

    @BeforeEach
    void open() throws Exception {
        queue = new SendQueue(
                PooledByteBufAllocator.DEFAULT,
                kernel,
                counters,
                false,
                SocketOptions.DEFAULT_MAX_QUEUED_BYTES,
                true,
                null);
        from = socket();
        other = socket();
        to = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        to.socket().setSoTimeout(2_000);
        destination = (InetSocketAddress) to.getLocalAddress();
    }

    private static UdpSocket socket() throws Exception {
        DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        return new UdpSocket(channel, 0, null, false);
    }

    @AfterEach
    void close() throws Exception {
        queue.close();
        from.channel.close();
        other.channel.close();
        to.close();
    }

    private static ByteBuffer packet(int first, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        if (length > 0) {
            b.put(0, (byte) first);
        }
        return b;
    }

    private int receiveFirstByte() throws Exception {
        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[65_536], 65_536);
        to.socket().receive(p);
        return p.getLength() == 0 ? -1 : p.getData()[0];
    }

    @Test
    void aPacketTheKernelTakesIsSentAtOnceAndNothingIsQueued() throws Exception {
        queue.send(from, packet(7, 100), destination, 0);
        assertThat(receiveFirstByte()).isEqualTo(7);
        assertThat(queue.isEmpty()).isTrue();
        assertThat(counters.datagramsSent).isEqualTo(1);
        assertThat(counters.packetsBuffered).isZero();
    }

    @Test
    void aFullBufferQueuesCopiesInOrderAndTheyDrainInOrderOnceItEmpties() throws Exception {
        kernel.full(true);
        for (int i = 1; i <= 5; i++) {
            ByteBuffer p = packet(i, 1_000);
            queue.send(from, p, destination, 0);
            p.put(0, (byte) 99); // the caller's buffer is reused at once: the queue holds a copy
        }
        assertThat(queue.isEmpty()).as("suspended").isFalse();
        assertThat(queue.queuedPackets()).isEqualTo(5);
        assertThat(queue.queuedBytes()).isEqualTo(5_000);
        assertThat(queue.flush(1)).as("still full").isFalse();
        assertThat(queue.consistent()).isTrue();

        kernel.full(false);
        assertThat(queue.awaitWritable(1_000)).as("woken by writability").isTrue();
        assertThat(queue.flush(2)).as("drained").isTrue();
        for (int i = 1; i <= 5; i++) {
            assertThat(receiveFirstByte()).as("packet " + i + " in order").isEqualTo(i);
        }
        assertThat(counters.datagramsSent).isEqualTo(5);
        assertThat(counters.queuedBytesHighWater).isEqualTo(5_000);
        assertThat(queue.queuedBytes()).isZero();
        assertThat(queue.consistent()).isTrue();
    }

    @Test
    void theSuspensionRuleIsTheQueuesOwnStopAtTheFirstQueuedPacketOrAtTheBound() throws Exception {
        kernel.full(true);
        queue.send(from, packet(1, 1_000), destination, 0);
        assertThat(queue.stopsReading()).as("--suspend loop: anything queued").isTrue();
        assertThat(queue.atBound()).as("far below the 4 MiB bound").isFalse();

        LoopCounters flowCounters = new LoopCounters();
        // another socket below: a socket's queue is its own, and `from` has one in the queue above
        try (SendQueue flow =
                new SendQueue(PooledByteBufAllocator.DEFAULT, kernel, flowCounters, false, 2_000, false, null)) {
            flow.send(other, packet(1, 1_000), destination, 0);
            assertThat(flow.stopsReading())
                    .as("--suspend flow: 1,000 of 2,000 bytes")
                    .isFalse();
            assertThat(flow.atBound()).isFalse();
            flow.send(other, packet(2, 1_000), destination, 0);
            assertThat(flow.stopsReading()).as("at the bound").isTrue();
            assertThat(flow.atBound()).isTrue();
            kernel.full(false);
            assertThat(flow.flush(1)).isTrue();
            assertThat(flowCounters.datagramsSent).isEqualTo(2);
            assertThat(flow.stopsReading())
                    .as("drained: %d bytes, %d packets", flow.queuedBytes(), flow.queuedPackets())
                    .isFalse();
        }
    }

    @Test
    void aPacketForASocketWithAQueueJoinsTheQueueEvenIfTheKernelWouldTakeIt() throws Exception {
        kernel.full(true);
        queue.send(from, packet(1, 10), destination, 0);
        kernel.full(false);
        queue.send(from, packet(2, 10), destination, 0); // must not overtake packet 1
        queue.send(other, packet(3, 10), destination, 0); // another socket is not held up
        assertThat(receiveFirstByte()).isEqualTo(3);
        assertThat(queue.flush(1)).isTrue();
        assertThat(receiveFirstByte()).isEqualTo(1);
        assertThat(receiveFirstByte()).isEqualTo(2);
    }

    @Test
    void anEmptyDatagramThatWasSentIsSentAndOneThatWasQueuedLeavesTheQueue() throws Exception {
        queue.send(from, packet(0, 0), destination, 0);
        assertThat(receiveFirstByte()).as("an empty datagram").isEqualTo(-1);
        assertThat(queue.isEmpty()).isTrue();

        kernel.full(true);
        queue.send(from, packet(0, 0), destination, 0);
        assertThat(queue.queuedPackets()).isEqualTo(1);
        kernel.full(false);
        assertThat(queue.flush(1)).isTrue();
        assertThat(receiveFirstByte()).isEqualTo(-1);
        assertThat(counters.datagramsSent).isEqualTo(2);
    }

    @Test
    void aSocketClosedWithPacketsQueuedFailsThemCountedAndTheQueueEmpties() throws Exception {
        kernel.full(true);
        queue.send(from, packet(1, 10), destination, 0);
        queue.send(from, packet(2, 10), destination, 0);
        from.channel.close();
        kernel.full(false);
        io.netty.buffer.ByteBuf first = from.pending.peek().data();
        assertThat(queue.flush(1)).as("nothing left waiting").isTrue();
        assertThat(first.refCnt()).as("a failed packet's copy released").isZero();
        assertThat(counters.sendErrors).isEqualTo(2);
        assertThat(queue.queuedPackets()).isZero();
        assertThat(queue.consistent()).isTrue();
    }

    @Test
    void theLargestDatagramQueuesAndLeavesWhole() throws Exception {
        kernel.full(true);
        queue.send(from, packet(5, 65_507), destination, 0);
        kernel.full(false);
        assertThat(queue.flush(1)).isTrue();
        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[65_536], 65_536);
        to.socket().receive(p);
        assertThat(p.getLength()).isEqualTo(65_507);
    }

    @Test
    void closingReleasesEveryQueuedBuffer() throws Exception {
        kernel.full(true);
        queue.send(from, packet(1, 10), destination, 0);
        io.netty.buffer.ByteBuf copy = from.pending.peek().data();
        queue.close();
        assertThat(copy.refCnt()).as("the queued copy released").isZero();
        assertThat(queue.queuedPackets()).isZero();
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void aQueuedPacketLeavesWithTheMarkItWasSentWithWhateverWasSentBetween() throws Throwable {
        LoopCounters marked = new LoopCounters();
        try (SendQueue withMarks = new SendQueue(
                        PooledByteBufAllocator.DEFAULT, kernel, marked, false, 1 << 20, true, new TrafficClass());
                TosProbe peer =
                        new TosProbe(DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)), false)) {
            from.fd = BatchReceiver.fd(from.channel);
            InetSocketAddress to = (InetSocketAddress) peer.channel.getLocalAddress();
            int[] marks = {0xB8, 0x00, 0x03, 0x88, 0x88, 0x01};
            kernel.full(true);
            for (int i = 0; i < marks.length; i++) {
                withMarks.send(from, packet(i, 10), to, 0, from, marks[i]);
            }
            kernel.full(false);
            assertThat(withMarks.flush(1)).isTrue();
            withMarks.send(from, packet(9, 10), to, 2, from, 0x02); // sent at once, not queued
            for (int i = 0; i < marks.length; i++) {
                TosProbe.Received r = peer.receive(2_000);
                assertThat(r.payload()[0]).isEqualTo((byte) i);
                assertThat(r.tos()).as("packet %d", i).isEqualTo(marks[i]);
            }
            assertThat(peer.receive(2_000).tos()).isEqualTo(0x02);
        }
    }
}
