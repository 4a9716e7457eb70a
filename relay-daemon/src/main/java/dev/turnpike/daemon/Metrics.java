package dev.turnpike.daemon;

import dev.turnpike.core.RelayCounters;
import java.util.List;
import java.util.Locale;

/**
 * The relay's counters in the Prometheus text format (version 0.0.4), rendered from a snapshot the loop
 * published: the loop's thread owns the live counters, so other threads only ever see copies.
 */
final class Metrics {
    private Metrics() {}

    /**
     * Copies taken on a loop's thread at {@code takenAtNs} (System.nanoTime); for the process, the sum of its
     * workers' and the oldest time among them, with each worker's own in {@code workers} (empty in a worker's).
     */
    record Snapshot(
            RelayCounters relay,
            LoopCounters loop,
            int queuedPackets,
            long queuedBytes,
            long takenAtNs,
            List<Snapshot> workers) {
        static Snapshot sum(List<Snapshot> workers) {
            RelayCounters relay = new RelayCounters();
            LoopCounters loop = new LoopCounters();
            int queuedPackets = 0;
            long queuedBytes = 0;
            long oldest = workers.get(0).takenAtNs();
            for (Snapshot w : workers) {
                relay.add(w.relay());
                loop.add(w.loop());
                queuedPackets += w.queuedPackets();
                queuedBytes += w.queuedBytes();
                oldest = w.takenAtNs() - oldest < 0 ? w.takenAtNs() : oldest;
            }
            return new Snapshot(relay, loop, queuedPackets, queuedBytes, oldest, List.copyOf(workers));
        }
    }

    /** What the loop does not know: whether a drain is under way, and the reloads applied and refused. */
    static String renderLifecycle(boolean draining, long reloadsApplied, long reloadsRefused) {
        StringBuilder b = new StringBuilder(512);
        single(
                b,
                "turnpike_draining",
                "gauge",
                "1 while draining (SIGTERM or POST /drain): new allocations refused.",
                draining ? 1 : 0);
        header(
                b,
                "turnpike_reloads_total",
                "counter",
                "Reloads (SIGHUP or POST /reload), by whether they were applied.");
        sample(b, "turnpike_reloads_total", "result", "applied", reloadsApplied);
        sample(b, "turnpike_reloads_total", "result", "refused", reloadsRefused);
        return b.toString();
    }

    /** Every series of {@link MetricSeries#ALL} from {@code s}, then the process's own. */
    static String render(Snapshot s) {
        StringBuilder b = new StringBuilder(4096);
        for (MetricSeries series : MetricSeries.ALL) {
            if (series.byWorker() != null) {
                if (s.workers().isEmpty()) {
                    continue; // a lone loop's own snapshot: the sum is the worker
                }
                header(b, series.name(), series.type(), series.help());
                for (int i = 0; i < s.workers().size(); i++) {
                    double value = series.byWorker().applyAsDouble(s.workers().get(i));
                    sample(b, series.name(), "worker", Integer.toString(i), value);
                }
                continue;
            }
            header(b, series.name(), series.type(), series.help());
            for (MetricSeries.Sample sample : series.samples()) {
                double value = sample.value().applyAsDouble(s);
                if (series.label() == null) {
                    b.append(series.name()).append(' ').append(format(value)).append('\n');
                } else {
                    sample(b, series.name(), series.label(), sample.labelValue(), value);
                }
            }
        }
        ProcessMetrics.render(b);
        return b.toString();
    }

    static void single(StringBuilder b, String name, String type, String help, double value) {
        header(b, name, type, help);
        b.append(name).append(' ').append(format(value)).append('\n');
    }

    static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, String label, String labelValue, double value) {
        b.append(name)
                .append('{')
                .append(label)
                .append("=\"")
                .append(labelValue)
                .append("\"} ")
                .append(format(value))
                .append('\n');
    }

    static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.6f", value);
    }
}
