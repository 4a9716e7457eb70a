package dev.turnpike.daemon.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.usage.Usage;
import dev.turnpike.daemon.usage.UsageReport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status page as HTML: what it shows, what it escapes, and that it asks for nothing else. */
class StatusPageTest {
    private static final long NOW = 7_200_000_000_000L;

    private static AllocationSummary allocation(String user) {
        return new AllocationSummary(
                9,
                user,
                new InetSocketAddress("198.51.100.7", 40000),
                new InetSocketAddress("203.0.113.10", 50012),
                null,
                75,
                525,
                1,
                1,
                10,
                48_000,
                12,
                51_000);
    }

    private static StatusPage.Status status(
            boolean draining, List<AllocationSummary> live, List<StatusHistory.Sample> history, LoopSnapshot now) {
        return new StatusPage.Status(
                "1.2.3",
                Duration.ofMinutes(90),
                2,
                List.of("udp 127.0.0.1:3478", "tls [::1]:5349"),
                draining,
                now,
                live,
                history,
                List.of(new UsageReport.Row("customer-42", false, new Usage(3, 100, 50, 123_456))),
                List.of(new RecentRefusals.Entry(
                        Instant.parse("2026-12-06T17:00:01Z"),
                        "198.51.100.9:1234",
                        "CreatePermission",
                        403,
                        "peer <10.0.0.1> refused")),
                NOW);
    }

    @Test
    void itShowsTheRelayAtAGlanceAndAsksForNothingElse() {
        String page = StatusPage.render(status(false, List.of(allocation("alice")), List.of(), null));
        assertThat(page)
                .startsWith("<!DOCTYPE html>")
                .contains("name=\"viewport\"", "Turnpike 1.2.3", "serving", "up 90 min", "2 workers", "1 allocation(s)")
                .contains("udp 127.0.0.1:3478", "tls [::1]:5349")
                .contains("<td>9</td><td>alice</td><td>198.51.100.7:40000</td><td>203.0.113.10:50012</td>")
                .contains("customer-42", "123 kB", "CreatePermission", "403")
                .contains("The chart fills as the hour goes", "Starting.");
        assertThat(page.toLowerCase())
                .as("no script, no other request")
                .doesNotContain("<script", "src=", "href=", "http://", "https://", "@import", "url(");
        assertThat(StatusPage.render(status(true, List.of(), List.of(), null))).contains("draining", "None.");
    }

    @Test
    void whatAClientChoseIsEscaped() {
        String page =
                StatusPage.render(status(false, List.of(allocation("<script>alert('x')</script>&")), List.of(), null));
        assertThat(page).doesNotContain("<script>").contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;");
        assertThat(page).contains("peer &lt;10.0.0.1&gt; refused");
        assertThat(StatusPage.escape("a\nb\u0000\"")).isEqualTo("a b &quot;");
    }

    @Test
    void theChartAndTheRatesComeFromTheHistory() {
        RelayCounters counters = new RelayCounters();
        LoopSnapshot now = new LoopSnapshot(counters, new LoopCounters(), 0, 0, NOW, List.of());
        List<StatusHistory.Sample> history = List.of(
                new StatusHistory.Sample(NOW - 3_000_000_000_000L, 4, 0, 0),
                new StatusHistory.Sample(NOW - 10_000_000_000L, 7, 0, 0),
                new StatusHistory.Sample(NOW, 5, 0, 0));
        String page = StatusPage.render(status(false, List.of(), history, now));
        assertThat(page).contains("<svg", "<polyline", ">7</text>").contains("to peers 0 bit/s", "to clients 0 bit/s");
        assertThat(page)
                .containsPattern("points=\"\\d+\\.\\d,\\d+\\.\\d \\d+\\.\\d,\\d+\\.\\d \\d+\\.\\d,\\d+\\.\\d\"");
        assertThat(page).doesNotContain("measuring");
    }
}
