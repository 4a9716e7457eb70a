package dev.turnpike.daemon.loop;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.function.Consumer;

/**
 * How the loop waits when a pass did nothing, apart from what a pass does (as an Aeron agent's idle strategy is
 * apart from its {@code doWork}): never past the core's next deadline, for writability only while the send queue
 * stops reading (suspended), else for input, handled as it arrives. Loop thread only.
 */
public final class Idle {
    private static final long MAX_WAIT_MS = 1_000;

    private final Selector readSelector;
    private final SendQueue sendQueue;
    private final LoopCounters counters;

    Idle(Selector readSelector, SendQueue sendQueue, LoopCounters counters) {
        this.readSelector = readSelector;
        this.sendQueue = sendQueue;
        this.counters = counters;
    }

    /**
     * Waits no longer than until {@code deadlineNs} (Long.MAX_VALUE: none) from {@code nowNs}; ready keys go to
     * {@code onReady} (with --suspend flow a blocked socket's writability wakes it too). Answers whether it handled
     * input.
     */
    boolean await(long nowNs, long deadlineNs, Consumer<SelectionKey> onReady) throws IOException {
        long waitMs = waitMs(nowNs, deadlineNs);
        if (sendQueue.stopsReading()) {
            awaitWritability(waitMs);
            return false;
        }
        return readSelector.select(onReady, waitMs) > 0;
    }

    /**
     * Suspended: some socket's buffer is full. Read nothing until every queued packet is out; timers and stop()
     * still end this wait.
     */
    private void awaitWritability(long waitMs) throws IOException {
        long suspendedAt = System.nanoTime();
        counters.suspendedWaits++;
        if (sendQueue.awaitWritable(waitMs)) {
            counters.suspendedWakeupsByWritability++;
        }
        counters.suspendedNs += System.nanoTime() - suspendedAt;
    }

    /**
     * How long the select may sleep: until the deadline, measured from the clock read at the top of this iteration
     * (the loop reads the clock once an iteration; the work since then makes a timer at most that much late).
     */
    static long waitMs(long nowNs, long deadlineNs) {
        if (deadlineNs == Long.MAX_VALUE) {
            return MAX_WAIT_MS;
        }
        long ms = (deadlineNs - nowNs) / 1_000_000 + 1;
        return Math.max(1, Math.min(MAX_WAIT_MS, ms));
    }
}
