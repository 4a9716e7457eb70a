package dev.turnpike.daemon;

/** What the loop counts about its own I/O. Written by the loop thread only. */
final class LoopCounters {
    long datagramsReceived;
    long datagramsSent;
    /** Packets that met a full socket buffer and were queued instead of dropped. */
    long packetsBuffered;
    /** Time the loop spent suspended: not reading, waiting for a socket to take its queued packets. */
    long suspendedNs;
    /** Total time buffered packets waited, from queueing to being sent. */
    long bufferedNs;
    long receiveErrors;
    long internalErrors;
}
