package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.SocketOptions;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.Test;

/**
 * One peer's socket buffer stays full while another client relays to a fast peer. With --suspend flow the fast
 * client's packets go straight through and only the slow peer's wait; with --suspend loop (the seed's design)
 * the whole loop stops reading, so the fast client waits too. Either way, nothing read is dropped.
 */
class FlowSuspensionTest {
    private static final int CHANNEL = 0x4000;

    private static SocketOptions options(boolean suspendOnAnyQueued) {
        return new SocketOptions(
                1 << 20, 0, false, true, SocketOptions.DEFAULT_MAX_QUEUED_BYTES, suspendOnAnyQueued, false, true);
    }

    private static DatagramChannel peer() throws Exception {
        DatagramChannel peer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        peer.configureBlocking(false);
        return peer;
    }

    /** How many datagrams reach {@code peer} within {@code ms}. */
    private static int received(DatagramChannel peer, int expected, long ms) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocate(2048);
        int count = 0;
        long deadline = System.nanoTime() + ms * 1_000_000;
        while (count < expected && System.nanoTime() - deadline < 0) {
            if (peer.receive(buffer.clear()) != null) {
                count++;
            } else {
                Thread.sleep(2);
            }
        }
        return count;
    }

    /** A loop with two clients, each with a channel to a peer of its own, the slow one's buffer full. */
    private record Setting(
            ScriptedTransmitter kernel,
            LoopFixture fixture,
            TurnClient slowClient,
            TurnClient fastClient,
            DatagramChannel slowPeer,
            DatagramChannel fastPeer)
            implements AutoCloseable {
        static Setting of(boolean suspendOnAnyQueued) throws Exception {
            ScriptedTransmitter kernel = new ScriptedTransmitter();
            LoopFixture fixture = new LoopFixture(kernel, options(suspendOnAnyQueued), b -> b);
            Setting s = new Setting(kernel, fixture, fixture.client(), fixture.client(), peer(), peer());
            s.slowClient.setUp((InetSocketAddress) s.slowPeer.getLocalAddress(), CHANNEL);
            s.fastClient.setUp((InetSocketAddress) s.fastPeer.getLocalAddress(), CHANNEL);
            kernel.fullTowards((InetSocketAddress) s.slowPeer.getLocalAddress());
            return s;
        }

        @Override
        public void close() throws java.io.IOException {
            slowClient.close();
            fastClient.close();
            slowPeer.close();
            fastPeer.close();
            fixture.close();
        }
    }

    @Test
    void withFlowSuspensionAFastClientIsRelayedWhileAnotherPeersBufferIsFull() throws Exception {
        try (Setting s = Setting.of(false)) {
            for (int i = 0; i < 20; i++) {
                s.slowClient().sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[1000]));
            }
            LoopFixture.awaitTrue(() -> s.fixture().seen().queuedPackets() == 20, 5_000, "the slow peer's 20 queued");
            for (int i = 0; i < 20; i++) {
                s.fastClient().sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[100]));
            }
            assertThat(received(s.fastPeer(), 20, 5_000))
                    .as("the fast peer has all 20 while the slow one's wait")
                    .isEqualTo(20);
            assertThat(s.fixture().seen().queuedPackets()).isEqualTo(20);
            assertThat(s.fixture().seen().loop().suspendedWaits)
                    .as("the loop never stopped reading")
                    .isZero();

            s.kernel().fullTowards(null);
            assertThat(received(s.slowPeer(), 20, 5_000))
                    .as("then the slow peer's, none lost")
                    .isEqualTo(20);
            LoopFixture.awaitTrue(() -> s.fixture().seen().queuedPackets() == 0, 5_000, "the queue drained");
        }
    }

    @Test
    void withLoopSuspensionTheFastClientWaitsUntilTheSlowPeersQueueHasDrained() throws Exception {
        try (Setting s = Setting.of(true)) {
            s.slowClient().sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[1000]));
            LoopFixture.awaitTrue(() -> s.fixture().seen().suspended(), 5_000, "the loop suspended");
            for (int i = 0; i < 20; i++) {
                s.fastClient().sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[100]));
            }
            assertThat(received(s.fastPeer(), 20, 500))
                    .as("nothing while the loop is suspended")
                    .isZero();

            s.kernel().fullTowards(null);
            assertThat(received(s.fastPeer(), 20, 5_000))
                    .as("all of it once the queue drained")
                    .isEqualTo(20);
            assertThat(received(s.slowPeer(), 1, 5_000)).isEqualTo(1);
        }
    }
}
