package dev.turnpike.daemon.loop;

import dev.turnpike.core.Command;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Usernames;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.slf4j.Logger;

/**
 * The loop's part that carries out what the core decided about one input ({@link Outbox}): the forward, to a peer
 * from the allocation's relay socket or to a client from its listener (by the {@link Transport} that serves its
 * listener), then the commands in order: responses, relay sockets to close,
 * allocation events to log. Its log lines are the loop's, under the loop's logger name, as operators know them.
 */
final class Courier {
    private static final Logger log = LoopLog.LOG;

    private final Outbox out;
    private final SendQueue sendQueue;
    private final RelaySocketTable relaySockets;
    /** Which transport serves each listener: a packet to a client leaves by it. */
    private final Transports transports;

    private final LoopCounters counters;
    private TcpRelaySockets tcp;
    /**
     * Who else hears of what was carried out besides the log: allocations' events (usage by tag) and refused
     * requests (the status page); null for none. Set before the loop runs.
     */
    private java.util.function.Consumer<Command> listener;

    Courier(
            Outbox out,
            SendQueue sendQueue,
            RelaySocketTable relaySockets,
            Transports transports,
            LoopCounters counters) {
        this.out = out;
        this.sendQueue = sendQueue;
        this.relaySockets = relaySockets;
        this.transports = transports;
        this.counters = counters;
    }

    /**
     * Carries out what the core put in the outbox for one input, read from {@code input}: {@code from} is the
     * socket it was read on, whose allocation's flow a packet to a client belongs to when it is a relay socket (see
     * {@link FairShare}); {@code trafficClass} is the TOS byte the input arrived with, which a forward leaves with.
     */
    void carry(ByteBuffer input, UdpSocket from, long nowNs, int trafficClass) {
        ByteBuffer buffer = out.buffer(input);
        switch (out.forward()) {
            case NONE -> {}
            case TO_PEER -> {
                UdpSocket socket = relaySockets.socket(out.relay());
                if (socket != null) {
                    buffer.limit(out.offset() + out.length()).position(out.offset());
                    sendQueue.send(socket, buffer, out.destination(), nowNs, socket, trafficClass);
                } else {
                    counters.sendErrors++; // cannot happen: a live endpoint has a socket
                }
            }
            case TO_CLIENT -> {
                buffer.limit(out.offset() + out.length()).position(out.offset());
                transports
                        .of(out.listener())
                        .send(
                                out.listener(),
                                out.destination(),
                                buffer,
                                out.channelData(),
                                from != null && from.relay != null ? from : null,
                                trafficClass,
                                nowNs);
            }
        }
        for (Command command = out.poll(); command != null; command = out.poll()) {
            switch (command) {
                case Command.SendToClient s -> {
                    if (s.refusal() != null) {
                        if (log.isDebugEnabled()) {
                            logRefusal(s.client(), s.refusal());
                        }
                        if (listener != null) {
                            listener.accept(s);
                        }
                    }
                    transports
                            .of(s.listener())
                            .send(s.listener(), s.client(), ByteBuffer.wrap(s.bytes()), false, null, 0, nowNs);
                }
                case Command.CloseRelay c -> relaySockets.release(c.relay());
                case Command.ConnectPeer c -> tcp.connect(c.relay(), c.peer(), c.connectionId());
                case Command.BindConnection b -> tcp.bind(b.listener(), b.client(), b.relay(), b.connectionId());
                case Command.CloseConnection c -> tcp.close(c.relay(), c.connectionId());
                case Command.PassConnection p -> tcp.pass(p.listener(), p.client(), p.worker());
                case Command.AllocationEvent e -> {
                    logAllocation(e);
                    if (listener != null) {
                        listener.accept(e);
                    }
                }
            }
        }
    }

    /**
     * RFC 6062's sockets, from now on: set with the stream transport, before the loop runs. (The core asks for them
     * only of a client over TCP or TLS, so there is always one when asked.)
     */
    void tcp(TcpRelaySockets tcp) {
        this.tcp = tcp;
    }

    /** {@code listener} hears of allocations' events and refused requests from now on, on the loop's thread. */
    void listen(java.util.function.Consumer<Command> listener) {
        this.listener = listener;
    }

    /**
     * An allocation created, refreshed or ended: INFO, one line, nothing per packet. With --log-format json, the
     * line at its end is what a log pipeline sums by user, name or tag.
     */
    private static void logAllocation(Command.AllocationEvent e) {
        var line = log.atInfo().addKeyValue("user", e.user()).addKeyValue("client", Addresses.format(e.client()));
        if (e.relayedIpv4() != null) {
            line = line.addKeyValue("relayed", Addresses.format(e.relayedIpv4()));
        }
        if (e.relayedIpv6() != null) {
            line = line.addKeyValue("relayedIpv6", Addresses.format(e.relayedIpv6()));
        }
        switch (e.kind()) {
            case CREATED, REFRESHED -> line = line.addKeyValue("lifetime", e.lifetimeSeconds());
            case DELETED, EXPIRED, CLOSED, ENDED, REVOKED ->
                line = line.addKeyValue("ageSeconds", e.ageSeconds())
                        .addKeyValue("packetsToPeers", e.packetsToPeers())
                        .addKeyValue("bytesToPeers", e.bytesToPeers())
                        .addKeyValue("packetsToClient", e.packetsToClient())
                        .addKeyValue("bytesToClient", e.bytesToClient());
        }
        String name = Usernames.account(e.user());
        if (!name.equals(e.user())) {
            line = line.addKeyValue("name", name); // a time-limited credential's: what to sum by
        }
        String tag = Usernames.tag(e.user());
        if (tag != null) {
            line = line.addKeyValue("tag", tag);
        }
        line.log("allocation " + e.kind().name().toLowerCase(java.util.Locale.ROOT));
    }

    /** A protocol error answered to a client, and why, for an operator who asked for --log-level debug. */
    private static void logRefusal(InetSocketAddress client, Command.Refusal refusal) {
        log.atDebug()
                .addKeyValue("client", Addresses.format(client))
                .addKeyValue("method", StunMethod.name(refusal.method()))
                .addKeyValue("code", refusal.code())
                .addKeyValue("reason", refusal.reason())
                .log("refused");
    }
}
