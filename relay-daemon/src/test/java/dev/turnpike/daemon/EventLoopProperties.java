package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.SocketOptions;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The loop over real sockets, driven by random sequences: datagrams of any size from 0 to 65,507 bytes from two
 * clients and two peers, send buffers that fill and drain, a relay socket closed underneath, the clock jumping
 * ahead so that allocations expire while packets wait. After every sequence, once the buffers drain: every
 * datagram the loop read was answered, forwarded, ignored as a keepalive or counted as dropped; every packet it
 * meant to send was sent or counted as a send error; nothing stays queued; the queue's books balanced at every
 * iteration; and the relay still answers.
 */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class EventLoopProperties {
    private static final int CHANNEL = 0x4000;
    private static final int MAX_DATAGRAM = 65_507;

    sealed interface Step {}

    record FromClient(int client, int kind, int size) implements Step {}

    record FromPeer(int peer, int size) implements Step {}

    record Buffers(boolean full) implements Step {}

    record CloseARelaySocket() implements Step {}

    record Advance(int seconds) implements Step {}

    /** Up to 25 steps; datagram sizes empty, typical or up to the largest UDP payload, in equal parts. */
    static List<Step> sequence(Gen g) {
        return g.list(0, 25, () -> switch (g.weighted(8, 6, 3, 1, 1)) {
            case 0 -> new FromClient(g.between(0, 1), g.between(0, 4), size(g));
            case 1 -> new FromPeer(g.between(0, 1), size(g));
            case 2 -> new Buffers(g.bool());
            case 3 -> new CloseARelaySocket();
            default -> new Advance(g.oneOf(1, 60, 301, 700));
        });
    }

    private static int size(Gen g) {
        return switch (g.between(0, 2)) {
            case 0 -> 0;
            case 1 -> g.between(0, 1500);
            default -> g.between(0, MAX_DATAGRAM);
        };
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(30);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyDatagramReadIsAccountedForAndNothingStaysQueued(long seed) throws Exception {
        Gen g = new Gen(seed);
        List<Step> steps = sequence(g);
        // 1: every batch is held back after its first queued packet; 4 MiB: the default
        long maxQueuedBytes = g.oneOf(1L, 65_536L, SocketOptions.DEFAULT_MAX_QUEUED_BYTES);
        boolean suspendOnAnyQueued = g.bool();
        ScriptedTransmitter kernel = new ScriptedTransmitter();
        try (LoopFixture fixture = new LoopFixture(
                        kernel,
                        new SocketOptions(1 << 20, 0, false, true, maxQueuedBytes, suspendOnAnyQueued, false, g.bool()),
                        b -> b);
                TurnClient a = fixture.client();
                TurnClient b = fixture.client();
                DatagramChannel peerA = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                DatagramChannel peerB = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            TurnClient[] clients = {a, b};
            DatagramChannel[] peers = {peerA, peerB};
            InetSocketAddress[] relayed = new InetSocketAddress[2];
            for (int i = 0; i < 2; i++) {
                relayed[i] = clients[i].allocate();
                clients[i].channelBind(CHANNEL, (InetSocketAddress) peers[i].getLocalAddress());
                clients[i].createPermission((InetSocketAddress) peers[1 - i].getLocalAddress());
            }
            SplittableRandom random = new SplittableRandom(seed);
            for (Step step : steps) {
                switch (step) {
                    case FromClient c -> send(clients[c.client()], peers[c.client()], c, random);
                    case FromPeer p ->
                        peers[p.peer()].send(ByteBuffer.wrap(bytes(p.size(), random)), relayed[p.peer()]);
                    case Buffers f -> kernel.full(f.full());
                    case CloseARelaySocket x -> kernel.closeNextRelaySocket();
                    case Advance t -> fixture.loop.advanceClock(t.seconds() * 1_000_000_000L);
                }
            }
            kernel.full(false);
            LoopFixture.awaitTrue(
                    () -> {
                        LoopFixture.Seen s = fixture.seen();
                        return s.queuedPackets() == 0 && !s.suspended();
                    },
                    10_000,
                    "the queue drained once the buffers did");
            assertThat(a.binding(2_000)).as("the relay still answers").isEqualTo(a.localAddress());

            LoopFixture.Seen seen = fixture.seen();
            LoopCounters loop = seen.loop();
            RelayCounters core = seen.core();
            long limited = core.dropped(RelayCounters.Drop.CHALLENGE_LIMITED);
            long answered = core.stunRequests() - limited;
            long forwarded = core.packetsClientToPeer() + core.packetsPeerToClient();
            assertThat(loop.internalErrors).as("exceptions out of the core").isZero();
            assertThat(seen.inconsistentIterations())
                    .as("iterations whose queue books did not balance")
                    .isZero();
            assertThat(loop.datagramsReceived)
                    .as("datagrams read = answered + forwarded + dropped + ignored")
                    .isEqualTo(answered + forwarded + core.droppedTotal() - limited + core.indicationsIgnored());
            assertThat(loop.sendsRequested)
                    .as("packets to send = answers + forwards")
                    .isEqualTo(answered + forwarded);
            assertThat(loop.sendsRequested)
                    .as("packets to send = sent + send errors + shed to protect other flows (+ none queued)")
                    .isEqualTo(loop.datagramsSent + loop.sendErrors + loop.droppedShed + seen.queuedPackets());
            if (suspendOnAnyQueued) {
                assertThat(loop.droppedShed).as("--suspend loop never sheds").isZero();
            }
            // Reading stops once anything is queued (--suspend loop) or at the bound (--suspend flow), and a batch
            // already read stops at the bound: the queue never holds more than the bound plus one datagram's output
            // (a forward and a response at most).
            assertThat(loop.queuedBytesHighWater)
                    .as("bytes ever queued at once")
                    .isLessThanOrEqualTo(maxQueuedBytes + MAX_DATAGRAM + 2_048);
            assertThat(fixture.alive()).isTrue();
        }
    }

    private static void send(TurnClient client, DatagramChannel peer, FromClient c, SplittableRandom random)
            throws Exception {
        InetSocketAddress to = (InetSocketAddress) peer.getLocalAddress();
        switch (c.kind()) {
            case 0 ->
                client.sendChannelData(CHANNEL, ByteBuffer.wrap(bytes(Math.min(c.size(), MAX_DATAGRAM - 4), random)));
            case 1 -> client.sendIndication(to, bytes(Math.min(c.size(), MAX_DATAGRAM - 40), random));
            case 2 -> client.sendRaw(bytes(c.size(), random));
            case 3 -> client.sendRaw(new byte[0]);
            default ->
                client.sendRaw(
                        new byte[] {0, 1, 0, 0, 0x21, 0x12, (byte) 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        }
    }

    private static byte[] bytes(int size, SplittableRandom random) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }
}
