package dev.turnpike.daemon.http;

import java.util.Locale;

/** The Prometheus text format (version 0.0.4): a series' HELP and TYPE lines, and its samples. */
final class PrometheusText {
    private PrometheusText() {}

    static void single(StringBuilder b, String name, String type, String help, double value) {
        header(b, name, type, help);
        b.append(name).append(' ').append(format(value)).append('\n');
    }

    static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    static void sample(StringBuilder b, String name, String label, String labelValue, double value) {
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
