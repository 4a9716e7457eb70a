package dev.turnpike.benchmarks.reports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the load generator's JSON lines from one side-by-side run into Markdown: medians over the rounds per
 * server and rate, and each figure as a ratio to coturn's (and the C floor's) from the same run.
 *
 * <pre>java -cp benchmarks.jar dev.turnpike.benchmarks.reports.Report results.jsonl [baseline-label ...]</pre>
 */
public final class Report {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(\"[^\"]*\"|[-0-9.eE]+|true|false)");

    private Report() {}

    public static void main(String[] args) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (!line.startsWith("{")) {
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            Matcher m = FIELD.matcher(line);
            while (m.find()) {
                row.put(m.group(1), m.group(2).replace("\"", ""));
            }
            rows.add(row);
        }
        List<String> baselines = args.length > 1
                ? List.of(args).subList(1, args.length)
                : List.of("coturn-m1", "coturn-m2", "coturn-default", "c-floor", "java-floor");
        System.out.print(render(rows, baselines));
    }

    static String render(List<Map<String, String>> rows, List<String> wanted) {
        Set<String> labels = new LinkedHashSet<>();
        Set<Integer> rates = new LinkedHashSet<>();
        for (Map<String, String> row : rows) {
            labels.add(row.get("label"));
            if (row.get("phase").equals("fixed")) {
                rates.add(Integer.parseInt(row.get("offered")));
            }
        }
        // a column only for a baseline the run measured
        List<String> baselines = wanted.stream().filter(labels::contains).toList();
        StringBuilder md = new StringBuilder();
        for (int rate : rates) {
            md.append(String.format(
                    Locale.ROOT,
                    "%n#### %,d round trips/s offered (medians of %d rounds)%n%n",
                    rate,
                    rounds(rows, rate)));
            md.append(
                    "| server | relay CPU s per M packets | of which user | loss | RTT p50 us | RTT p99 us | RTT p99.9 us | delivered/s | generator-limited runs |");
            for (String b : baselines) {
                md.append(" CPU vs ").append(b).append(" |");
            }
            md.append("\n|---|---|---|---|---|---|---|---|---|")
                    .append("---|".repeat(baselines.size()))
                    .append('\n');
            for (String label : labels) {
                List<Map<String, String>> runs = select(rows, label, "fixed", rate);
                if (runs.isEmpty()) {
                    continue;
                }
                double cpu = median(runs, "cpuSecondsPerMillionPackets");
                md.append(String.format(
                        Locale.ROOT,
                        "| %s | %.2f | %s | %.3f%% | %.0f | %.0f | %.0f | %.0f | %d |",
                        label,
                        cpu,
                        runs.stream().allMatch(r -> r.containsKey("userSecondsPerMillionPackets"))
                                ? String.format(Locale.ROOT, "%.2f", median(runs, "userSecondsPerMillionPackets"))
                                : "-",
                        100 * median(runs, "loss"),
                        median(runs, "rttP50Us"),
                        median(runs, "rttP99Us"),
                        median(runs, "rttP999Us"),
                        median(runs, "deliveredRate"),
                        count(runs, "generatorLimited")));
                for (String b : baselines) {
                    List<Map<String, String>> base = select(rows, b, "fixed", rate);
                    md.append(
                            base.isEmpty()
                                    ? " - |"
                                    : String.format(
                                            Locale.ROOT,
                                            " %.2fx |",
                                            cpu / median(base, "cpuSecondsPerMillionPackets")));
                }
                md.append('\n');
            }
            md.append(paired(rows, labels, baselines, rate));
        }
        md.append(String.format(
                Locale.ROOT, "%n#### Saturation: highest offered round trips/s with < 1%% loss (medians)%n%n"));
        md.append("| server | round trips/s | relay CPU s per M packets | RTT p99 us |");
        for (String b : baselines) {
            md.append(" vs ").append(b).append(" |");
        }
        md.append("\n|---|---|---|---|").append("---|".repeat(baselines.size())).append('\n');
        for (String label : labels) {
            List<Map<String, String>> runs = select(rows, label, "saturation", -1);
            if (runs.isEmpty()) {
                continue;
            }
            double rate = median(runs, "offered");
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %.0f | %.2f | %.0f |",
                    label,
                    rate,
                    median(runs, "cpuSecondsPerMillionPackets"),
                    median(runs, "rttP99Us")));
            for (String b : baselines) {
                List<Map<String, String>> base = select(rows, b, "saturation", -1);
                md.append(
                        base.isEmpty()
                                ? " - |"
                                : String.format(Locale.ROOT, " %.2fx |", rate / median(base, "offered")));
            }
            md.append('\n');
        }
        List<Map<String, String>> limited = rows.stream()
                .filter(r -> r.get("phase").equals("search")
                        && r.get("generatorLimited").equals("true"))
                .toList();
        if (!limited.isEmpty()) {
            md.append(String.format(
                    Locale.ROOT,
                    "%nThe search stopped on the load generator (not the relay) in %d of its steps: "
                            + "there the saturation figure is a floor for the relay, not its limit.%n",
                    limited.size()));
        }
        return md.toString();
    }

    /**
     * Each server's CPU per packet over each baseline's in the same round (the runs adjacent in time, so they
     * share the machine's mood): the median of those per-round ratios and their range. On a noisy machine this
     * says more than the ratio of two medians.
     */
    private static String paired(List<Map<String, String>> rows, Set<String> labels, List<String> baselines, int rate) {
        StringBuilder md = new StringBuilder();
        for (String label : labels) {
            List<Map<String, String>> runs = select(rows, label, "fixed", rate);
            for (String b : baselines) {
                List<Map<String, String>> base = select(rows, b, "fixed", rate);
                int n = Math.min(runs.size(), base.size());
                // one direction of each pair of baselines is enough
                boolean inverse = baselines.contains(label) && baselines.indexOf(label) > baselines.indexOf(b);
                if (label.equals(b) || inverse || n == 0) {
                    continue;
                }
                double[] ratios = new double[n];
                for (int i = 0; i < n; i++) {
                    ratios[i] = Double.parseDouble(runs.get(i).get("cpuSecondsPerMillionPackets"))
                            / Double.parseDouble(base.get(i).get("cpuSecondsPerMillionPackets"));
                }
                double median = median(ratios); // sorts ratios: [0] and [n - 1] are the range
                md.append(String.format(
                        Locale.ROOT,
                        "%s CPU / %s CPU, round by round: median %.2fx, range %.2fx-%.2fx (%d rounds)%n",
                        label,
                        b,
                        median,
                        ratios[0],
                        ratios[n - 1],
                        n));
            }
        }
        return md.length() == 0 ? "" : "\n" + md.toString().replace("\n", "  \n");
    }

    private static int rounds(List<Map<String, String>> rows, int rate) {
        return (int) rows.stream()
                .filter(r -> r.get("phase").equals("fixed") && Integer.parseInt(r.get("offered")) == rate)
                .map(r -> r.get("label"))
                .collect(java.util.stream.Collectors.groupingBy(l -> l, java.util.stream.Collectors.counting()))
                .values()
                .stream()
                .mapToLong(Long::longValue)
                .max()
                .orElse(0);
    }

    private static List<Map<String, String>> select(
            List<Map<String, String>> rows, String label, String phase, int rate) {
        return rows.stream()
                .filter(r -> r.get("label").equals(label)
                        && r.get("phase").equals(phase)
                        && (rate < 0 || Integer.parseInt(r.get("offered")) == rate))
                .toList();
    }

    private static int count(List<Map<String, String>> rows, String flag) {
        return (int) rows.stream().filter(r -> r.get(flag).equals("true")).count();
    }

    static double median(List<Map<String, String>> rows, String field) {
        return median(
                rows.stream().mapToDouble(r -> Double.parseDouble(r.get(field))).toArray());
    }

    /** The median of {@code values}, which it sorts. */
    static double median(double[] values) {
        java.util.Arrays.sort(values);
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
