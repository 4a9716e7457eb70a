package dev.turnpike.daemon.loop;

import java.util.ArrayDeque;

/**
 * Who pays when the send queue is full (--suspend flow). A flow is an allocation, named by its relay socket: the
 * packets it sends to peers and the packets its peers send back are one flow. While only one flow has been
 * relayed lately, the queue at its bound suspends reading as the seed did, so a single flow over a slow path
 * loses nothing in the relay (the kernel's receive buffer holds or drops the rest). Once another flow is being
 * read, suspending would make it wait behind the full one, and its datagrams would be lost in the same receive
 * buffer: then the queue sheds the newest datagrams of the socket holding the most queued bytes (longest queue
 * drop, the fair-queueing literature's cheapest fair drop) and reads on.
 *
 * <p>Costs two comparisons a send; the scan for the longest queue runs only when shedding, at most once a flush.
 */
final class FairShare {
    /**
     * How recently another flow must have been relayed for the full flow to be shed rather than the loop
     * suspended. Long beside a call's packet spacing (20 ms), short beside a tunnel that went quiet.
     */
    static final long OTHERS_ACTIVE_NS = 1_000_000_000L;

    private Object lastFlow;
    /** When a flow other than {@link #lastFlow} was last relayed; meaningful once {@link #seenOther}. */
    private long otherFlowNs;

    private boolean seenOther;
    /** The time of the last send: the suspension rule asks between sends. */
    private long lastNs;
    /** The socket with the most queued bytes as last found, or null when a flush may have changed that. */
    private UdpSocket longest;

    /** A packet of {@code flow} (null: not a flow, e.g. a STUN response, which never decides) is being sent. */
    void relayed(Object flow, long nowNs) {
        lastNs = nowNs;
        if (flow != lastFlow && flow != null) {
            if (lastFlow != null) {
                otherFlowNs = nowNs;
                seenOther = true;
            }
            lastFlow = flow;
        }
    }

    /** Whether a flow besides the last one was relayed within {@link #OTHERS_ACTIVE_NS}: shed, do not suspend. */
    boolean othersActive() {
        return seenOther && lastNs - otherFlowNs < OTHERS_ACTIVE_NS;
    }

    /** A packet joined {@code socket}'s queue. */
    void queued(UdpSocket socket) {
        if (longest != null && socket.pendingBytes > longest.pendingBytes) {
            longest = socket;
        }
    }

    /** Queues drained: the longest must be found again before the next shed. */
    void flushed() {
        longest = null;
    }

    /** The blocked socket holding the most queued bytes. */
    UdpSocket longest(ArrayDeque<UdpSocket> blocked) {
        if (longest == null || longest.pending.isEmpty()) {
            longest = null;
            for (UdpSocket socket : blocked) {
                if (longest == null || socket.pendingBytes > longest.pendingBytes) {
                    longest = socket;
                }
            }
        }
        return longest;
    }
}
