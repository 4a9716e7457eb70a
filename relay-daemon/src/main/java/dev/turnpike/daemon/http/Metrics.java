package dev.turnpike.daemon.http;

import dev.turnpike.daemon.loop.LoopSnapshot;

/**
 * The relay's counters in the Prometheus text format (version 0.0.4), rendered from a snapshot the loop
 * published: the loop's thread owns the live counters, so other threads only ever see copies.
 */
public final class Metrics {
    private Metrics() {}

    /** What the loop does not know: whether a drain is under way, and the reloads applied and refused. */
    public static String renderLifecycle(boolean draining, long reloadsApplied, long reloadsRefused) {
        StringBuilder b = new StringBuilder(512);
        PrometheusText.single(
                b,
                "turnpike_draining",
                "gauge",
                "1 while draining (SIGTERM or POST /drain): new allocations refused.",
                draining ? 1 : 0);
        PrometheusText.header(
                b,
                "turnpike_reloads_total",
                "counter",
                "Reloads (SIGHUP or POST /reload), by whether they were applied.");
        PrometheusText.sample(b, "turnpike_reloads_total", "result", "applied", reloadsApplied);
        PrometheusText.sample(b, "turnpike_reloads_total", "result", "refused", reloadsRefused);
        return b.toString();
    }

    /** Every series of {@link MetricSeries#ALL} from {@code s}, then the process's own. */
    static String render(LoopSnapshot s) {
        StringBuilder b = new StringBuilder(4096);
        for (MetricSeries series : MetricSeries.ALL) {
            if (series.byWorker() != null) {
                if (s.workers().isEmpty()) {
                    continue; // a lone loop's own snapshot: the sum is the worker
                }
                PrometheusText.header(b, series.name(), series.type(), series.help());
                for (int i = 0; i < s.workers().size(); i++) {
                    double value = series.byWorker().applyAsDouble(s.workers().get(i));
                    PrometheusText.sample(b, series.name(), "worker", Integer.toString(i), value);
                }
                continue;
            }
            PrometheusText.header(b, series.name(), series.type(), series.help());
            for (MetricSeries.Sample sample : series.samples()) {
                double value = sample.value().applyAsDouble(s);
                if (series.label() == null) {
                    b.append(series.name())
                            .append(' ')
                            .append(PrometheusText.format(value))
                            .append('\n');
                } else {
                    PrometheusText.sample(b, series.name(), series.label(), sample.labelValue(), value);
                }
            }
        }
        ProcessMetrics.render(b);
        return b.toString();
    }
}
