package dev.turnpike.daemon.http;

import dev.turnpike.daemon.loop.LoopSnapshot;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The last hour of the relay, for the status page's chart and rates: every 10 s, the allocations live and the
 * payload bytes relayed so far each way, from the snapshot the loops publish (a thread of its own reads it; the
 * loops never wait on it). 360 samples at most.
 */
public final class StatusHistory implements AutoCloseable {
    static final long INTERVAL_NS = 10_000_000_000L;
    private static final int SAMPLES = 360;

    /** One sample: when (System.nanoTime), allocations live, and bytes relayed so far each way. */
    public record Sample(long atNs, long allocations, long bytesClientToPeer, long bytesPeerToClient) {}

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private ScheduledExecutorService sampler;

    /** Samples {@code snapshots} now and every 10 s from now on. */
    public void start(Supplier<LoopSnapshot> snapshots) {
        sampler = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "turnpike-status");
            thread.setDaemon(true);
            return thread;
        });
        sampler.scheduleAtFixedRate(
                () -> {
                    LoopSnapshot s = snapshots.get();
                    if (s != null) {
                        add(of(s));
                    }
                },
                0,
                INTERVAL_NS,
                TimeUnit.NANOSECONDS);
    }

    static Sample of(LoopSnapshot s) {
        return new Sample(
                s.takenAtNs(),
                s.relay().allocationsLive(),
                s.relay().bytesClientToPeer(),
                s.relay().bytesPeerToClient());
    }

    synchronized void add(Sample sample) {
        if (!samples.isEmpty() && samples.peekLast().atNs() == sample.atNs()) {
            return; // the loops have not published since: nothing new
        }
        if (samples.size() == SAMPLES) {
            samples.removeFirst();
        }
        samples.addLast(sample);
    }

    /** The samples, oldest first. */
    public synchronized List<Sample> samples() {
        return new ArrayList<>(samples);
    }

    @Override
    public void close() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
    }
}
