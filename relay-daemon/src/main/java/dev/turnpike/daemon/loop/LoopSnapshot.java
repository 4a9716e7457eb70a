package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayCounters;
import java.util.List;

/**
 * A loop's counters, copied on its thread for other threads to read (metrics, health, the stop line): the loop owns
 * the live ones. Copies taken on a loop's thread at {@code takenAtNs} (System.nanoTime); for the process, the sum of its
 * workers' and the oldest time among them, with each worker's own in {@code workers} (empty in a worker's).
 */
public record LoopSnapshot(
        RelayCounters relay,
        LoopCounters loop,
        int queuedPackets,
        long queuedBytes,
        long takenAtNs,
        List<LoopSnapshot> workers) {
    public static LoopSnapshot sum(List<LoopSnapshot> workers) {
        RelayCounters relay = new RelayCounters();
        LoopCounters loop = new LoopCounters();
        int queuedPackets = 0;
        long queuedBytes = 0;
        long oldest = workers.get(0).takenAtNs();
        for (LoopSnapshot w : workers) {
            relay.add(w.relay());
            loop.add(w.loop());
            queuedPackets += w.queuedPackets();
            queuedBytes += w.queuedBytes();
            oldest = w.takenAtNs() - oldest < 0 ? w.takenAtNs() : oldest;
        }
        return new LoopSnapshot(relay, loop, queuedPackets, queuedBytes, oldest, List.copyOf(workers));
    }
}
