package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import dev.turnpike.daemon.loop.EventLoop;
import dev.turnpike.daemon.loop.SocketOptions;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The loop with real sockets on 127.0.0.1 and ephemeral ports. */
class EventLoopTest {
    private EventLoop loop;
    private Relay relay;
    private Thread thread;
    private InetSocketAddress server;

    @BeforeEach
    void start() throws Exception {
        loop = new EventLoop(
                List.of(new InetSocketAddress("127.0.0.1", 0)),
                PooledByteBufAllocator.DEFAULT,
                SocketOptions.KERNEL_DEFAULTS);
        List<InetSocketAddress> bound = loop.boundListeners();
        server = bound.get(0);
        relay = new Relay(RelayConfig.builder(bound).build(), loop.relaySockets());
        loop.attach(relay);
        thread = new Thread(loop, "test-loop");
        thread.start();
    }

    @AfterEach
    void stop() throws Exception {
        loop.stop();
        thread.join(5_000);
        assertThat(thread.isAlive()).isFalse();
    }

    @Test
    void aBindingRequestOverARealSocketGetsTheSocketsAddressBack() throws Exception {
        try (DatagramChannel client = DatagramChannel.open()) {
            client.bind(new InetSocketAddress("127.0.0.1", 0));
            client.socket().setSoTimeout(5_000);
            client.send(binding(42L), server);
            ByteBuffer response = ByteBuffer.allocate(1500);
            response.limit(receiveWithin(client, response));
            StunMessage message = new StunMessage();
            assertThat(message.wrap(response, 0, response.limit())).isEqualTo(DecodeStatus.OK);
            assertThat(message.transactionIdHigh()).isEqualTo(42L);
            assertThat(message.xorAddress(message.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                    .isEqualTo(client.getLocalAddress());
        }
    }

    @Test
    void junkIsCountedAndTheLoopKeepsAnswering() throws Exception {
        try (DatagramChannel client = DatagramChannel.open()) {
            client.bind(new InetSocketAddress("127.0.0.1", 0));
            for (int i = 0; i < 100; i++) {
                client.send(ByteBuffer.wrap(new byte[] {(byte) i, 1, 2}), server);
            }
            aBindingRequestOverARealSocketGetsTheSocketsAddressBack();
            assertThat(relay.counters().dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(100);
        }
    }

    @Test
    void theLoopStepsOnTheTestThreadAndSaysHowMuchEachStepDid() throws Exception {
        EventLoop stepped = new EventLoop(
                List.of(new InetSocketAddress("127.0.0.1", 0)),
                PooledByteBufAllocator.DEFAULT,
                SocketOptions.KERNEL_DEFAULTS);
        try (DatagramChannel client = DatagramChannel.open()) {
            List<InetSocketAddress> bound = stepped.boundListeners();
            stepped.attach(new Relay(RelayConfig.builder(bound).build(), stepped.relaySockets()));
            long nowNs = 1_000_000_000L;
            stepped.doWork(nowNs); // the first step publishes and may run the first timers
            assertThat(stepped.doWork(nowNs)).as("nothing to do").isZero();

            client.bind(new InetSocketAddress("127.0.0.1", 0));
            client.socket().setSoTimeout(5_000);
            client.send(binding(43L), bound.get(0));
            int work = 0;
            for (int step = 0; step < 10_000 && work == 0; step++) { // loopback delivers at once: a few steps
                work = stepped.doWork(nowNs);
            }
            assertThat(work).as("a step that read the request").isPositive();
            ByteBuffer response = ByteBuffer.allocate(1500);
            response.limit(receiveWithin(client, response));
            StunMessage message = new StunMessage();
            assertThat(message.wrap(response, 0, response.limit())).isEqualTo(DecodeStatus.OK);
            assertThat(message.transactionIdHigh()).isEqualTo(43L);
            assertThat(stepped.doWork(nowNs)).as("nothing left to do").isZero();
        } finally {
            stepped.close();
        }
    }

    /** A Binding request of transaction {@code tx}, ready to send. */
    private static ByteBuffer binding(long tx) {
        StunWriter writer = new StunWriter(new MessageIntegrity());
        ByteBuffer request = ByteBuffer.allocate(64);
        writer.begin(request, 0, StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_REQUEST), tx, 7);
        return request.limit(writer.length());
    }

    /** A blocking receive bounded by the socket's timeout (5 s), through the channel's socket adaptor. */
    private static int receiveWithin(DatagramChannel channel, ByteBuffer into) throws Exception {
        java.net.DatagramPacket packet = new java.net.DatagramPacket(into.array(), into.capacity());
        channel.socket().receive(packet); // throws SocketTimeoutException after setSoTimeout
        return packet.getLength();
    }
}
