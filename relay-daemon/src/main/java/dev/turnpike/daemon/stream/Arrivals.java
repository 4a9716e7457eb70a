package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.TrafficClass;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How client connections come to a worker's stream transport and leave it other than by closing: accepted from a
 * listening socket (within the admission's limits), or passed between workers ({@link HandOff}) when a
 * ConnectionBind is for another worker's peer connection. Either way the connection is in the transport's table,
 * on its selector and counted by its admission, or in none of them. Loop thread only.
 */
final class Arrivals {
    private static final Logger log = LoggerFactory.getLogger(Arrivals.class);
    private static final int ACCEPTS_PER_READINESS = 64;

    private final Selector selector;
    private final LoopCounters counters;
    private final ConnectionAdmission admission;
    private final Map<Integer, HashMap<InetSocketAddress, StreamConnection>> byListener;
    private final TrafficClass marks;
    private final List<String> webProtocols;
    private final HandOff handOff;
    private final int worker;

    Arrivals(
            Selector selector,
            LoopCounters counters,
            ConnectionAdmission admission,
            Map<Integer, HashMap<InetSocketAddress, StreamConnection>> byListener,
            TrafficClass marks,
            List<String> webProtocols,
            HandOff handOff,
            int worker) {
        this.selector = selector;
        this.counters = counters;
        this.admission = admission;
        this.byListener = byListener;
        this.marks = marks;
        this.webProtocols = webProtocols;
        this.handOff = handOff;
        this.worker = worker;
        handOff.register(worker, selector);
    }

    void accept(StreamListener listener, long nowNs) {
        for (int i = 0; i < ACCEPTS_PER_READINESS; i++) {
            SocketChannel channel;
            try {
                channel = listener.server.accept();
            } catch (IOException e) {
                counters.receiveErrors++; // e.g. out of descriptors: the next readiness tries again
                log.atDebug().setCause(e).log("accept failed");
                return;
            }
            if (channel == null) {
                return;
            }
            try {
                InetSocketAddress client = (InetSocketAddress) channel.getRemoteAddress();
                if (admission.refuses(listener, client.getAddress(), nowNs)) {
                    counters.streamsRefused++;
                    channel.close();
                    continue;
                }
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                StreamConnection c = new StreamConnection(
                        channel, listener.index, client, nowNs, listener.newTlsSession(webProtocols));
                if (marks != null) {
                    c.followTrafficClass(marks);
                }
                c.key = channel.register(selector, SelectionKey.OP_READ, c);
                byListener.get(listener.index).put(client, c);
                if (listener.proxied) {
                    c.awaitingProxyHeader = true;
                } else {
                    admission.countPerIp(c);
                }
                counters.streamsOpen = admission.opened();
                counters.streamsAccepted++;
            } catch (IOException | RuntimeException e) {
                counters.streamsRefused++;
                log.atDebug().setCause(e).log("cannot take a connection");
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // gone already
                }
            }
        }
    }

    /** Marks {@code c} for worker {@code to}: it goes once its framing has stopped ({@link #handOver}). */
    void pass(StreamConnection c, int to) {
        if (c != null && !c.closed && to != worker && handOff.reaches(to)) {
            c.handedOff = true;
            c.passedTo = to;
        }
    }

    /** {@code c} leaves this worker: out of its table and selector (not closed), into the other worker's inbox. */
    void handOver(StreamConnection c) {
        c.key.cancel();
        byListener.get(c.listener).remove(c.client);
        counters.streamsOpen = admission.closed(c);
        counters.streamsPassed++;
        handOff.send(c.passedTo, c);
    }

    /** The next connection another worker passed, registered here and counted; null when none is waiting. */
    StreamConnection adopted() {
        for (StreamConnection c = handOff.take(worker); c != null; c = handOff.take(worker)) {
            c.handedOff = false;
            try {
                int interest = SelectionKey.OP_READ | (c.pending.isEmpty() ? 0 : SelectionKey.OP_WRITE);
                c.key = c.channel.register(selector, interest, c);
            } catch (IOException | RuntimeException e) {
                try {
                    c.channel.close();
                } catch (IOException ignored) {
                    // gone either way
                }
                continue;
            }
            byListener.get(c.listener).put(c.client, c);
            admission.opened();
            if (c.countedPerIp) {
                admission.countPerIp(c);
            }
            counters.streamsOpen = admission.open();
            return c;
        }
        return null;
    }
}
