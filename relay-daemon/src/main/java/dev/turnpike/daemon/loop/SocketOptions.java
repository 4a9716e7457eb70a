package dev.turnpike.daemon.loop;

/**
 * How the loop sets up its sockets.
 *
 * @param receiveBytes SO_RCVBUF of every socket (0: the kernel's default). Large, because while the loop is
 *     off the CPU (a busy 2-core machine, a GC pause) datagrams wait here, and UDP drops what does not fit.
 * @param sendBytes SO_SNDBUF (0: the kernel's default). Not large: a send buffer bigger than the interface's
 *     queue lets the kernel drop silently in the qdisc before the socket ever blocks, and blocking is what lets
 *     the relay hold packets instead of losing them.
 * @param dropWhenFull benchmark-only: drop a packet the kernel will not take instead of queueing it, to
 *     measure what buffering is worth. Never for production.
 * @param batchedReceive receive with recvmmsg where the platform allows ({@link BatchReceiver}); false only to
 *     measure what batching is worth.
 * @param maxQueuedBytes once this many bytes wait in the send queue, the loop stops handling even the datagrams
 *     of a batch it has already read; they wait in the batch's buffer until the queue has drained. Reading
 *     stops as soon as anything is queued, so the queue holds at most this plus one datagram's output.
 * @param suspendOnAnyQueued the seed's whole-loop suspension ({@code --suspend loop}): stop reading as soon as
 *     any packet is queued. False ({@code --suspend flow}): read on while the queue holds less than
 *     {@code maxQueuedBytes}, so that packets wait only behind their own socket's, and one slow peer delays no
 *     other flow; the loop still stops reading once the bound is reached.
 * @param reusePort bind the listening sockets with SO_REUSEPORT, so that every worker of the process binds the
 *     same addresses and the kernel hashes each client's 5-tuple to one of them (--workers above 1). Off for one
 *     worker: with it, any process of the same user could bind the port too and take a share of the clients.
 * @param keepTrafficClass --dscp-preserve: each relayed datagram leaves with the TOS byte / Traffic Class it
 *     arrived with ({@link TrafficClass}); needs batched receive, which reads the byte.
 */
public record SocketOptions(
        int receiveBytes,
        int sendBytes,
        boolean dropWhenFull,
        boolean batchedReceive,
        long maxQueuedBytes,
        boolean suspendOnAnyQueued,
        boolean reusePort,
        boolean keepTrafficClass) {
    /** coturn asks for 4 MiB too; the kernel caps it at net.core.rmem_max. */
    static final int DEFAULT_RECEIVE_BYTES = 4 << 20;

    public static final long DEFAULT_MAX_QUEUED_BYTES = 4 << 20;

    public static final SocketOptions KERNEL_DEFAULTS =
            new SocketOptions(0, 0, false, true, DEFAULT_MAX_QUEUED_BYTES, true, false, true);
}
