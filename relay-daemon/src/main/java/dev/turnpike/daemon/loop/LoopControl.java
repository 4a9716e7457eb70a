package dev.turnpike.daemon.loop;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * How other threads reach a loop that owns all its state: work handed to it (the admin view, a reload, a drain),
 * run at its next iteration with its clock; a stop; the counters the loop publishes; and, for tests, clocks moved ahead. Each wakes the loop, even
 * while it is suspended. The only part of a loop that other threads touch.
 */
final class LoopControl {
    private static final long PUBLISH_INTERVAL_NS = 1_000_000_000L;
    private final ConcurrentLinkedQueue<LongConsumer> tasks = new ConcurrentLinkedQueue<>();
    /** Ends the loop's wait, whichever selector it waits on. */
    private final Runnable wakeup;

    private volatile boolean running = true;
    /** The counters as of the loop's last publication; null before the first. */
    private volatile LoopSnapshot published;

    private long publishedAtNs;
    /** How far tests have moved the loop's clocks ahead of the machine's (0 in production). */
    private volatile long clockOffsetNs;

    LoopControl(Runnable wakeup) {
        this.wakeup = wakeup;
    }

    /** Whether the loop should publish its counters again: a few objects a second, for metrics. */
    boolean publicationDue(long nowNs) {
        return published == null || nowNs - publishedAtNs >= PUBLISH_INTERVAL_NS;
    }

    /** The loop's counters, copied for other threads; loop thread only. */
    void publish(LoopSnapshot snapshot, long nowNs) {
        published = snapshot;
        publishedAtNs = nowNs;
    }

    /** The counters as of the loop's last publication (at most a second old while it runs); null before; any thread. */
    LoopSnapshot published() {
        return published;
    }

    /** Runs {@code task} on the loop thread at its next iteration, with the loop's clock; any thread. */
    <T> CompletableFuture<T> submit(LongFunction<T> task) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        tasks.add(nowNs -> {
            try {
                answer.complete(task.apply(nowNs));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        wakeup.run();
        return answer;
    }

    /** The tasks handed in since the last call, run now; loop thread only. Answers how many. */
    int runTasks(long nowNs) {
        int ran = 0;
        for (LongConsumer task = tasks.poll(); task != null; task = tasks.poll()) {
            task.accept(nowNs);
            ran++;
        }
        return ran;
    }

    /** Asks the loop to stop; any thread. The loop ends its iteration first. */
    void stop() {
        running = false;
        wakeup.run();
    }

    boolean running() {
        return running;
    }

    /** For tests: moves the loop's monotonic and wall clocks ahead; one writer (the test thread). */
    void advanceClock(long nanoseconds) {
        clockOffsetNs += nanoseconds;
        wakeup.run();
    }

    long clockOffsetNs() {
        return clockOffsetNs;
    }
}
