package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.Relay;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.Test;

class BatchReceiverTest {
    @Test
    void recvmmsgIsAvailableOnLinuxWithTheJdkOpened() {
        assertThat(BatchReceiver.UNAVAILABLE_BECAUSE).isNull();
        assertThat(BatchReceiver.AVAILABLE).isTrue();
    }

    @Test
    void oneCallReceivesEveryWaitingDatagramWithItsSourceAndBytes() throws Exception {
        AddressCache cache = new AddressCache(64);
        BatchReceiver batch = new BatchReceiver(Relay.HEADROOM, 3, cache);
        try (DatagramChannel server = DatagramChannel.open();
                DatagramChannel a = DatagramChannel.open();
                DatagramChannel b = DatagramChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            server.configureBlocking(false);
            a.bind(new InetSocketAddress("127.0.0.1", 0));
            b.bind(new InetSocketAddress("127.0.0.1", 0));
            for (int i = 0; i < 40; i++) {
                (i % 2 == 0 ? a : b).send(ByteBuffer.wrap(new byte[] {(byte) i, 1, 2}), server.getLocalAddress());
            }
            int fd = BatchReceiver.fd(server);
            assertThat(batch.receive(fd)).isEqualTo(BatchReceiver.SLOTS);
            for (int i = 0; i < BatchReceiver.SLOTS; i++) {
                assertThat(batch.length(i)).isEqualTo(3);
                assertThat(batch.buffer.get(batch.offset(i))).isEqualTo((byte) i);
                assertThat(batch.source(i)).isEqualTo((i % 2 == 0 ? a : b).getLocalAddress());
            }
            assertThat(batch.source(2))
                    .as("the same object for the same sender")
                    .isSameAs(batch.source(0));
            assertThat(batch.receive(fd)).isEqualTo(40 - BatchReceiver.SLOTS);
            assertThat(batch.receive(fd)).as("nothing waiting").isZero();
        }
    }

    @Test
    void ipv6SourcesAreDecodedToo() throws Exception {
        BatchReceiver batch = new BatchReceiver(Relay.HEADROOM, 3, new AddressCache(64));
        try (DatagramChannel server = DatagramChannel.open();
                DatagramChannel client = DatagramChannel.open()) {
            server.bind(new InetSocketAddress("::1", 0));
            server.configureBlocking(false);
            client.bind(new InetSocketAddress("::1", 0));
            client.send(ByteBuffer.wrap(new byte[] {9}), server.getLocalAddress());
            long deadline = System.nanoTime() + 5_000_000_000L;
            int n = 0;
            while (n == 0 && System.nanoTime() < deadline) {
                n = batch.receive(BatchReceiver.fd(server));
            }
            assertThat(n).isEqualTo(1);
            assertThat(batch.source(0)).isEqualTo(client.getLocalAddress());
        }
    }
}
