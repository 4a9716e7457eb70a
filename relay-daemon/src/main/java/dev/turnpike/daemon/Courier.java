package dev.turnpike.daemon;

import dev.turnpike.core.Command;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's part that carries out what the core decided about one input ({@link Outbox}): the forward, to a peer
 * from the allocation's relay socket or to a client from its listener (UDP through the {@link SendQueue}, TCP and
 * TLS through the {@link StreamTransport}), then the commands in order: responses, relay sockets to close,
 * allocation events to log. Its log lines are the loop's, under the loop's logger name, as operators know them.
 */
final class Courier {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    private final Outbox out;
    private final SendQueue sendQueue;
    private final RelaySocketTable relaySockets;
    private final List<UdpSocket> listeners;
    private final LoopCounters counters;
    /** TCP and TLS, once the loop listens on streams; null until then. */
    private StreamTransport streams;

    Courier(
            Outbox out,
            SendQueue sendQueue,
            RelaySocketTable relaySockets,
            List<UdpSocket> listeners,
            LoopCounters counters) {
        this.out = out;
        this.sendQueue = sendQueue;
        this.relaySockets = relaySockets;
        this.listeners = listeners;
        this.counters = counters;
    }

    /** The TCP and TLS transport, from when the loop has one. */
    void streams(StreamTransport streams) {
        this.streams = streams;
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
                if (out.listener() >= listeners.size()) {
                    if (out.channelData()) {
                        streams.sendChannelData(out.listener(), out.destination(), buffer);
                    } else {
                        streams.send(out.listener(), out.destination(), buffer);
                    }
                } else {
                    sendQueue.send(
                            listeners.get(out.listener()),
                            buffer,
                            out.destination(),
                            nowNs,
                            from != null && from.relay != null ? from : null,
                            trafficClass);
                }
            }
        }
        for (Command command = out.poll(); command != null; command = out.poll()) {
            switch (command) {
                case Command.SendToClient s -> {
                    if (s.refusal() != null && log.isDebugEnabled()) {
                        logRefusal(s.client(), s.refusal());
                    }
                    if (s.listener() >= listeners.size()) {
                        streams.send(s.listener(), s.client(), ByteBuffer.wrap(s.bytes()));
                    } else {
                        sendQueue.send(listeners.get(s.listener()), ByteBuffer.wrap(s.bytes()), s.client(), nowNs);
                    }
                }
                case Command.CloseRelay c -> relaySockets.release(c.relay());
                case Command.AllocationEvent e -> logAllocation(e);
            }
        }
    }

    /** An allocation created, refreshed, deleted or expired: INFO, one line, nothing per packet. */
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
            case DELETED, EXPIRED, CLOSED ->
                line = line.addKeyValue("ageSeconds", e.ageSeconds())
                        .addKeyValue("packetsToPeers", e.packetsToPeers())
                        .addKeyValue("bytesToPeers", e.bytesToPeers())
                        .addKeyValue("packetsToClient", e.packetsToClient())
                        .addKeyValue("bytesToClient", e.bytesToClient());
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
