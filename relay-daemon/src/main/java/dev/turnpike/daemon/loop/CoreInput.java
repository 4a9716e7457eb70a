package dev.turnpike.daemon.loop;

import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.log.RepeatedWarnings;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.slf4j.Logger;

/**
 * The loop's door into the core: each input (a datagram, a message framed on a stream, a connection that closed,
 * the timers) goes to the {@link Relay} with a cleared {@link Outbox}, and the {@link Courier} carries out what the
 * core decided. The core must not throw; if it ever does, that one input is lost, counted and logged (not in
 * bursts), never the loop. Its log lines are the loop's, under the loop's logger name. Loop thread only.
 */
final class CoreInput implements DatagramTransport.Delivery, ClientInput {
    private static final Logger log = LoopLog.LOG;

    private Relay relay;
    private final Outbox out;
    private final Courier courier;
    private final LoopCounters counters;
    private final RepeatedWarnings warnings = new RepeatedWarnings();
    /** A client whose connection closed. */
    private record Closed(int listener, InetSocketAddress client) {}

    /** Connections closed while their commands were being carried out: their allocations end at a safe point. */
    private final ArrayDeque<Closed> closedStreams = new ArrayDeque<>();
    /** RFC 6062 connections closed, told to the core at the same safe point. */
    private final ArrayDeque<Runnable> closedConnections = new ArrayDeque<>();
    /** A buffer with headroom for inputs that are not datagrams: the datagram transport's receive buffer. */
    private ByteBuffer spare;

    private long nowNs;
    private long epochSeconds;

    CoreInput(Outbox out, Courier courier, LoopCounters counters) {
        this.out = out;
        this.courier = courier;
        this.counters = counters;
    }

    /** The core, and a buffer with headroom for inputs that bring none; set once, before the loop runs. */
    void attach(Relay relay, ByteBuffer spare) {
        this.relay = relay;
        this.spare = spare;
    }

    /** The clocks as read at the top of this iteration: every input until the next is handed over at them. */
    void clock(long nowNs, long epochSeconds) {
        this.nowNs = nowNs;
        this.epochSeconds = epochSeconds;
    }

    @Override
    public void datagram(
            UdpSocket socket, InetSocketAddress source, ByteBuffer buffer, int offset, int length, int trafficClass) {
        counters.datagramsReceived++;
        buffer.limit(buffer.capacity());
        try {
            out.clear();
            if (socket.relay == null) {
                relay.onClientDatagram(nowNs, epochSeconds, socket.listener, source, buffer, offset, length, out);
            } else {
                relay.onPeerDatagram(nowNs, socket.relay, source, buffer, offset, length, out);
            }
            courier.carry(buffer, socket, nowNs, trafficClass);
        } catch (RuntimeException e) {
            failed("internal error handling a datagram", e);
        }
    }

    @Override
    public void malformed() {
        counters.datagramsReceived++;
        relay.counters().drop(RelayCounters.Drop.MALFORMED);
    }

    /** A message framed on a stream: to the core as a datagram from that client on that listener. */
    @Override
    public void message(
            int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, int trafficClass) {
        try {
            out.clear();
            relay.onClientDatagram(nowNs, epochSeconds, listener, client, buffer, offset, length, out);
            courier.carry(buffer, null, nowNs, trafficClass);
        } catch (RuntimeException e) {
            failed("internal error handling a datagram", e);
        }
    }

    @Override
    public void closed(int listener, InetSocketAddress client) {
        closedStreams.add(new Closed(listener, client));
    }

    @Override
    public boolean peerConnected(dev.turnpike.core.RelayEndpoint endpoint, int connectionId, boolean ok) {
        return peerEvent((r, now, epoch, o) -> r.onPeerConnected(now, endpoint, connectionId, ok, o), false);
    }

    @Override
    public int peerAccepted(dev.turnpike.core.RelayEndpoint endpoint, InetSocketAddress peer) {
        return peerEvent((r, now, epoch, o) -> r.onPeerAccepted(now, endpoint, peer, o), 0);
    }

    /** An RFC 6062 report to the core, {@link #act}ed; a bug in it costs that connection ({@code failed}). */
    private <T> T peerEvent(CoreAction<T> action, T failed) {
        try {
            return act(action);
        } catch (RuntimeException e) {
            failed("internal error handling a peer connection", e);
            return failed;
        }
    }

    @Override
    public void connectionClosed(dev.turnpike.core.RelayEndpoint endpoint, int connectionId) {
        closedConnections.add(() -> relay.onTcpConnectionClosed(endpoint, connectionId));
    }

    /** Runs {@code action} on the core now and carries out what it decided; answers what it answered. */
    <T> T act(CoreAction<T> action) {
        out.clear();
        T answer = action.apply(relay, nowNs, epochSeconds, out);
        courier.carry(spare, null, nowNs, 0);
        return answer;
    }

    /** The allocations of connections that closed end now, outside the handling of any other input. */
    int endClosedStreams() {
        int ended = 0;
        for (Runnable r = closedConnections.poll(); r != null; r = closedConnections.poll()) {
            ended++;
            r.run(); // nothing to carry out: the core forgets
        }
        for (Closed c = closedStreams.poll(); c != null; c = closedStreams.poll()) {
            ended++;
            try {
                out.clear();
                relay.onClientClosed(nowNs, c.listener(), c.client(), out);
                courier.carry(spare, null, nowNs, 0);
            } catch (RuntimeException e) {
                failed("internal error ending a connection's allocation", e);
            }
        }
        return ended;
    }

    /** The relay is stopping: nothing to end but the sockets. */
    void forgetClosedStreams() {
        closedStreams.clear();
        closedConnections.clear();
    }

    /** The core's timers, due now; {@code suspended}: while packets wait in the send queue (counted). */
    void runTimers(boolean suspended) {
        counters.timerRuns++;
        if (suspended) {
            counters.timerRunsWhileSuspended++;
        }
        try {
            out.clear();
            relay.onTimer(nowNs, out);
            courier.carry(spare, null, nowNs, 0);
        } catch (RuntimeException e) {
            // as for a datagram: a bug in the core costs this sweep, never the loop
            failed("internal error running timers", e);
        }
    }

    /** An error an input may cause again and again: counted, and logged, but not in bursts. */
    private void failed(String message, RuntimeException e) {
        counters.internalErrors++;
        long held = warnings.admit(message, nowNs);
        if (held >= 0) {
            log.atError().addKeyValue("heldBack", held).setCause(e).log(message);
        }
    }
}
