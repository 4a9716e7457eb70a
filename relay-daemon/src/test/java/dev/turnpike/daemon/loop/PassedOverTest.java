package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.ScriptedTransmitter;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sockets that were ready while reading was stopped get the first turns once it resumes, in the order they were
 * passed over: the selector reports ready keys in the same order every time, so otherwise the first socket would
 * refill the queue every time it drained and a later one (a flow's way back) would never be read. Real sockets on
 * loopback; "stopped" is a queued packet with --suspend loop, by a {@link ScriptedTransmitter} whose buffer is full.
 */
class PassedOverTest {
    private final ScriptedTransmitter kernel = new ScriptedTransmitter();
    private final LoopCounters counters = new LoopCounters();
    private final List<String> delivered = new ArrayList<>();
    private Selector selector;
    private SendQueue queue;
    private DatagramTransport transport;
    private UdpSockets sockets;
    private final List<UdpSocket> opened = new ArrayList<>();
    private DatagramChannel sender;
    private UdpSocket blocker;

    @BeforeEach
    void open() throws Exception {
        selector = Selector.open();
        SocketOptions options = SocketOptions.KERNEL_DEFAULTS;
        queue = new SendQueue(PooledByteBufAllocator.DEFAULT, kernel, counters, false, 1 << 20, true, null);
        sockets = new UdpSockets(selector, options, null);
        transport = new DatagramTransport(options, false, queue, sockets, counters, new DatagramTransport.Delivery() {
            @Override
            public void datagram(
                    UdpSocket socket,
                    InetSocketAddress source,
                    ByteBuffer buffer,
                    int offset,
                    int length,
                    int trafficClass) {
                delivered.add(name(socket) + ":" + buffer.get(offset));
            }

            @Override
            public void malformed() {}
        });
        sender = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        blocker = socket();
    }

    private UdpSocket socket() throws Exception {
        DatagramChannel channel = sockets.open(new InetSocketAddress("127.0.0.1", 0));
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        UdpSocket socket = sockets.register(channel, opened.size(), null);
        opened.add(socket);
        return socket;
    }

    private String name(UdpSocket socket) {
        return "s" + opened.indexOf(socket);
    }

    @AfterEach
    void close() throws Exception {
        queue.close();
        for (UdpSocket s : opened) {
            s.channel.close();
        }
        sender.close();
        selector.close();
    }

    private void sendTo(UdpSocket socket, int first) throws Exception {
        sender.send(ByteBuffer.wrap(new byte[] {(byte) first}), socket.channel.getLocalAddress());
    }

    private void stopReading() {
        kernel.full(true);
        queue.send(blocker, ByteBuffer.wrap(new byte[] {1}), new InetSocketAddress("127.0.0.1", 9), 0);
        assertThat(transport.mayRead()).isFalse();
    }

    private void resumeReading() {
        kernel.full(false);
        assertThat(queue.flush(1)).isTrue();
        assertThat(transport.mayRead()).isTrue();
    }

    /** Hands every ready key to the transport, in the order given. */
    private void ready(UdpSocket... order) throws Exception {
        selector.selectNow();
        for (UdpSocket socket : order) {
            SelectionKey key = socket.readKey;
            assertThat(selector.selectedKeys()).as(name(socket) + " ready").contains(key);
            transport.onReady(key, 0);
        }
        selector.selectedKeys().clear();
    }

    @Test
    void socketsReadyWhileReadingWasStoppedAreReadFirstInTheOrderTheyWerePassedOver() throws Exception {
        UdpSocket first = socket();
        UdpSocket second = socket();
        sendTo(first, 10);
        sendTo(second, 20);
        Thread.sleep(50); // loopback delivers at once; a margin for the selector to see both
        stopReading();
        ready(second, first);
        assertThat(delivered).as("nothing read while stopped").isEmpty();
        assertThat(transport.passedOverWaiting()).isTrue();

        resumeReading();
        assertThat(transport.readPassedOver()).isEqualTo(2);
        assertThat(delivered).containsExactly("s2:20", "s1:10");
        assertThat(transport.passedOverWaiting()).isFalse();
    }

    @Test
    void aSocketIsPassedOverOnceHoweverOftenItIsReadyAndOneClosedMeanwhileIsSkipped() throws Exception {
        UdpSocket first = socket();
        UdpSocket second = socket();
        sendTo(first, 10);
        sendTo(second, 20);
        Thread.sleep(50);
        stopReading();
        ready(first, second);
        ready(first, second);
        first.channel.close(); // a relay socket released while it waited
        resumeReading();
        assertThat(transport.readPassedOver()).isEqualTo(1);
        assertThat(delivered).containsExactly("s2:20");
    }

    @Test
    void passedOverSocketsKeepWaitingInOrderWhileReadingIsStoppedAgain() throws Exception {
        UdpSocket first = socket();
        UdpSocket second = socket();
        sendTo(first, 10);
        sendTo(second, 20);
        Thread.sleep(50);
        stopReading();
        ready(first, second);
        resumeReading();
        kernel.full(true);
        // stopped again before their turn: nothing is read, nothing is forgotten
        queue.send(blocker, ByteBuffer.wrap(new byte[] {2}), new InetSocketAddress("127.0.0.1", 9), 2);
        assertThat(transport.readPassedOver()).isZero();
        assertThat(transport.passedOverWaiting()).isTrue();
        resumeReading();
        assertThat(transport.readPassedOver()).isEqualTo(2);
        assertThat(delivered).containsExactly("s1:10", "s2:20");
    }
}
