package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.daemon.ScriptedTransmitter;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The send queue at its bound with --suspend flow: one flow alone is held, never shed; beside flows that are
 * being read, the longest queue's newest packets are shed and the others pass. On real loopback sockets, with a
 * {@link ScriptedTransmitter} playing one slow peer whose buffer is full.
 */
@ExtendWith(Seeds.NamedOnFailure.class)
class FairShareTest {
    private static final long BOUND = 10_000;
    private static final long MS = 1_000_000;

    private final ScriptedTransmitter kernel = new ScriptedTransmitter();
    private final LoopCounters counters = new LoopCounters();
    private SendQueue queue;
    /** Relay sockets: heavy's peer is slow; light's is not. */
    private UdpSocket heavy;

    private UdpSocket light;
    private UdpSocket third;
    private DatagramChannel fastPeer;
    private DatagramChannel slowPeer;

    @BeforeEach
    void open() throws Exception {
        queue = new SendQueue(PooledByteBufAllocator.DEFAULT, kernel, counters, false, BOUND, false, null);
        heavy = socket();
        light = socket();
        third = socket();
        fastPeer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        fastPeer.socket().setSoTimeout(2_000);
        slowPeer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        kernel.fullTowards((InetSocketAddress) slowPeer.getLocalAddress());
    }

    private static UdpSocket socket() throws Exception {
        DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        channel.configureBlocking(false);
        return new UdpSocket(channel, -1, null, false);
    }

    @AfterEach
    void close() throws Exception {
        queue.close();
        for (UdpSocket s : List.of(heavy, light, third)) {
            s.channel.close();
        }
        fastPeer.close();
        slowPeer.close();
    }

    private InetSocketAddress slow() throws Exception {
        return (InetSocketAddress) slowPeer.getLocalAddress();
    }

    private InetSocketAddress fast() throws Exception {
        return (InetSocketAddress) fastPeer.getLocalAddress();
    }

    private static ByteBuffer packet(int first, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(0, (byte) first);
        return b;
    }

    @Test
    void aFlowAloneAtTheBoundStopsTheReadingAndLosesNothing() throws Exception {
        for (int i = 0; i < 15; i++) {
            queue.send(heavy, packet(i, 1_000), slow(), i * MS, heavy, 0);
        }
        assertThat(queue.queuedPackets()).isEqualTo(15);
        assertThat(counters.droppedShed).isZero();
        assertThat(queue.atBound()).isTrue();
        assertThat(queue.stopsReading()).isTrue();
        assertThat(queue.consistent()).isTrue();
    }

    @Test
    void besideAFlowBeingReadTheFullFlowIsShedItsOldestKeptAndTheOtherFlowPasses() throws Exception {
        int lightSent = 0;
        for (int i = 0; i < 30; i++) {
            queue.send(heavy, packet(i, 1_000), slow(), i * MS, heavy, 0);
            queue.send(light, packet(i, 100), fast(), i * MS, light, 0);
            lightSent++;
            assertThat(queue.stopsReading()).as("after packet %d", i).isFalse();
            assertThat(queue.queuedBytes()).isLessThanOrEqualTo(BOUND);
        }
        for (int i = 0; i < lightSent; i++) {
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2_000], 2_000);
            fastPeer.socket().receive(p);
            assertThat(p.getData()[0])
                    .as("the light flow's packet %d, in order", i)
                    .isEqualTo((byte) i);
        }
        assertThat(queue.queuedPackets())
                .as("the heavy flow's first ten fill the bound")
                .isEqualTo(10);
        assertThat(counters.droppedShed).as("its newest twenty shed").isEqualTo(20);
        assertThat(queue.consistent()).isTrue();

        kernel.fullTowards(null);
        queue.flush(40 * MS);
        DatagramChannel peer = slowPeer;
        peer.socket().setSoTimeout(2_000);
        for (int i = 0; i < 10; i++) {
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2_000], 2_000);
            peer.socket().receive(p);
            assertThat(p.getData()[0]).as("kept: the oldest, in order").isEqualTo((byte) i);
        }
    }

    @Test
    void theLongestQueueGivesWayToAShorterOne() throws Exception {
        queue.send(light, packet(0, 100), fast(), 0, light, 0); // another flow is being read
        for (int i = 0; i < 9; i++) {
            queue.send(heavy, packet(i, 1_000), slow(), MS, heavy, 0);
        }
        queue.send(third, packet(50, 1_000), slow(), 2 * MS, third, 0);
        queue.send(third, packet(51, 1_000), slow(), 2 * MS, third, 0);
        assertThat(counters.droppedShed)
                .as("one of the longest queue's, for the shorter's second")
                .isEqualTo(1);
        assertThat(third.pending).hasSize(2);
        assertThat(heavy.pending).hasSize(8);
        assertThat(heavy.pending.peekLast().data().getByte(0))
                .as("the longest lost its newest")
                .isEqualTo((byte) 7);
        assertThat(queue.consistent()).isTrue();
    }

    @Test
    void onceTheOtherFlowsHaveBeenQuietForASecondTheFullFlowIsHeldAgain() throws Exception {
        queue.send(light, packet(0, 100), fast(), 0, light, 0);
        for (int i = 0; i < 12; i++) {
            queue.send(heavy, packet(i, 1_000), slow(), MS, heavy, 0);
        }
        assertThat(counters.droppedShed).isEqualTo(2);
        long later = MS + FairShare.OTHERS_ACTIVE_NS;
        queue.send(heavy, packet(12, 1_000), slow(), later, heavy, 0);
        assertThat(counters.droppedShed).as("alone again: held").isEqualTo(2);
        assertThat(queue.stopsReading()).isTrue();
    }

    @Test
    void aStunResponseIsNoFlowAndDoesNotMakeTheFullFlowSheddable() throws Exception {
        for (int i = 0; i < 12; i++) {
            queue.send(heavy, packet(i, 1_000), slow(), MS, heavy, 0);
            queue.send(light, packet(i, 100), fast(), MS); // a response to a client: no flow
        }
        assertThat(counters.droppedShed).isZero();
        assertThat(queue.stopsReading()).isTrue();
    }

    sealed interface Step {}

    record Send(int socket, boolean toSlow, int size, int flow) implements Step {}

    record Flush() implements Step {}

    record SlowPeerDrains(boolean drains) implements Step {}

    record Advance(int ms) implements Step {}

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(30);
    }

    /**
     * Random sends by three flows (empty to the largest datagram, to the slow peer or the fast one, some without a
     * flow), flushes, the slow peer draining or not, time passing. At every step the books balance and a flow
     * alone is never shed; at the end everything queued leaves.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyPacketIsSentQueuedOrShedAndAFlowAloneIsNeverShed(long seed) throws Exception {
        Gen g = new Gen(seed);
        List<Step> steps = g.list(0, 200, () -> switch (g.weighted(10, 2, 1, 1)) {
            case 0 ->
                new Send(g.between(0, 2), g.bool(), g.oneOf(0, 100, 1_000, g.between(0, 65_507)), g.between(-1, 2));
            case 1 -> new Flush();
            case 2 -> new SlowPeerDrains(g.bool());
            default -> new Advance(g.oneOf(1, 10, 500, 1_500));
        });
        UdpSocket[] sockets = {heavy, light, third};
        List<Integer> flowsSeen = new ArrayList<>();
        long nowNs = 0;
        long sends = 0;
        for (Step step : steps) {
            switch (step) {
                case Send s -> {
                    Object flow = s.flow() < 0 ? null : sockets[s.flow()];
                    long shedBefore = counters.droppedShed;
                    queue.send(
                            sockets[s.socket()],
                            ByteBuffer.allocate(s.size()),
                            s.toSlow() ? slow() : fast(),
                            nowNs,
                            flow,
                            0);
                    sends++;
                    if (s.flow() >= 0) {
                        flowsSeen.add(s.flow());
                    }
                    if (flowsSeen.stream().distinct().count() <= 1) {
                        assertThat(counters.droppedShed)
                                .as("a flow alone is never shed")
                                .isEqualTo(shedBefore);
                    }
                }
                case Flush f -> queue.flush(nowNs);
                case SlowPeerDrains d -> kernel.fullTowards(d.drains() ? null : slow());
                case Advance a -> nowNs += a.ms() * MS;
            }
            assertThat(queue.consistent()).as("books balance after %s", step).isTrue();
            assertThat(counters.sendsRequested)
                    .isEqualTo(counters.datagramsSent
                            + counters.sendErrors
                            + counters.droppedShed
                            + queue.queuedPackets());
        }
        kernel.fullTowards(null);
        queue.flush(nowNs);
        assertThat(queue.isEmpty()).isTrue();
        assertThat(counters.sendsRequested).isEqualTo(sends);
        assertThat(counters.datagramsSent + counters.sendErrors + counters.droppedShed)
                .isEqualTo(sends);
    }
}
