package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.http.MetricSeries;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped Grafana dashboard and Prometheus alert rules against what the packaged jar's /metrics really
 * serves: every metric they query exists, the rules pass {@code promtool check rules}, and the exposition passes
 * {@code promtool check metrics}.
 */
class DashboardIT {
    private static final Path PACKAGING = Path.of("..", "packaging");
    private static final Pattern METRIC = Pattern.compile("\\b((?:turnpike|process|jvm)_[a-z_]+)\\b");
    private static final Pattern URL = Pattern.compile("metrics=(http://127\\.0\\.0\\.1:\\d+)/metrics");

    private static Set<String> queried(Path file) throws Exception {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(Files.readString(file, StandardCharsets.UTF_8));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void everyMetricTheDashboardAndTheAlertsQueryIsServedAndPromtoolAcceptsBoth() throws Exception {
        Path promtool = Interop.tool("promtool", "prometheus");
        Path dashboard = PACKAGING.resolve("grafana/turnpike.json");
        Path alerts = PACKAGING.resolve("prometheus/alerts.yml");
        Set<String> wanted = queried(dashboard);
        wanted.addAll(queried(alerts));
        assertThat(wanted).as("the dashboard queries something").contains("turnpike_relayed_packets_total");

        try (DaemonProcess daemon = DaemonProcess.start(
                "--listen", "127.0.0.1:" + Interop.testPort("127.0.0.1"), "--metrics-listen", "127.0.0.1:0")) {
            Matcher url = URL.matcher(daemon.output());
            assertThat(url.find()).as(daemon.output()).isTrue();
            String metrics = "";
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && !metrics.startsWith("# HELP")) {
                metrics = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(url.group(1) + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                Thread.sleep(100); // polling for the loop's first publication; the condition decides
            }
            Set<String> served = new TreeSet<>();
            for (String line : metrics.lines().toList()) {
                if (line.startsWith("# TYPE ")) {
                    served.add(line.split(" ")[2]);
                }
            }
            assertThat(served).as("metrics served").containsAll(wanted);
            assertThat(served)
                    .as("every series described (one worker: none told by worker)")
                    .containsAll(MetricSeries.ALL.stream()
                            .filter(series -> series.byWorker() == null)
                            .map(MetricSeries::name)
                            .toList());
            assertThat(wanted.stream().filter(name -> name.startsWith("turnpike_worker_")))
                    .as("the per-worker series the dashboard draws are described")
                    .isSubsetOf(MetricSeries.names());

            Path scrape = Files.createTempFile("turnpike", ".metrics");
            try {
                Files.writeString(scrape, metrics);
                Interop.Result lint = Interop.run(
                        30, "sh", "-c", "\"$0\" check metrics < \"$1\"", promtool.toString(), scrape.toString());
                assertThat(lint.exitCode()).as(lint.output()).isZero();
            } finally {
                Files.deleteIfExists(scrape);
            }
            assertThat(daemon.terminate()).isZero();
        }
        Interop.Result rules = Interop.run(30, promtool.toString(), "check", "rules", alerts.toString());
        assertThat(rules.exitCode()).as(rules.output()).isZero();
        assertThat(rules.output()).contains("SUCCESS");
    }
}
