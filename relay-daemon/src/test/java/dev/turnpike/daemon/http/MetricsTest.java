package dev.turnpike.daemon.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.Workers;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.LoopSnapshot;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsTest {
    /**
     * A sample line of the Prometheus text format: name, optional labels (a value is anything but a quote, a
     * backslash or a newline: a version has dots and dashes), a number.
     */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-z_]+(\\{[a-z_]+=\"[^\"\\\\\n]*\"(,[a-z_]+=\"[^\"\\\\\n]*\")*\\})? -?[0-9]+(\\.[0-9]+)?");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static LoopSnapshot snapshot(long takenAtNs) {
        RelayCounters relay = new RelayCounters();
        relay.drop(RelayCounters.Drop.NO_PERMISSION);
        relay.drop(RelayCounters.Drop.NO_PERMISSION);
        LoopCounters loop = new LoopCounters();
        loop.packetsBuffered = 7;
        loop.suspendedNs = 1_500_000_000L;
        return new LoopSnapshot(relay, loop, 3, 4_500, takenAtNs, List.of());
    }

    /** Two workers' snapshots summed, as {@link Workers#published} does. */
    private static LoopSnapshot twoWorkers() {
        return LoopSnapshot.sum(List.of(snapshot(2_000), snapshot(1_000)));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void everyLineIsAHelpATypeOrASampleOfADeclaredMetric(boolean workers) {
        List<String> lines =
                Metrics.render(workers ? twoWorkers() : snapshot(0)).lines().toList();
        Set<String> declared = new HashSet<>();
        for (String line : lines) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                assertThat(parts[3]).isIn("counter", "gauge");
                assertThat(declared.add(parts[2]))
                        .as("declared once: " + parts[2])
                        .isTrue();
            } else if (!line.startsWith("# HELP ")) {
                assertThat(line).matches(SAMPLE);
                assertThat(declared).contains(line.split("[{ ]")[0]);
            }
        }
        assertThat(declared)
                .contains(
                        "turnpike_allocations",
                        "turnpike_relayed_packets_total",
                        "turnpike_dropped_packets_total",
                        "turnpike_auth_failures_total",
                        "process_open_fds",
                        "process_start_time_seconds",
                        "jvm_heap_used_bytes",
                        "jvm_gc_collections_total",
                        "jvm_threads",
                        "turnpike_build_info");
        assertThat(String.join("\n", lines))
                .as("the build docs/operations.md promises")
                .containsPattern("(?m)^turnpike_build_info\\{version=\"[^\"]+\",java=\"25\"} 1$");
    }

    @Test
    void countersAppearWithTheirLabelsAndUnits() {
        String text = Metrics.render(snapshot(0));
        assertThat(text)
                .contains(
                        "turnpike_dropped_packets_total{reason=\"no_permission\"} 2\n",
                        "turnpike_dropped_packets_total{reason=\"malformed\"} 0\n",
                        "turnpike_buffered_packets_total 7\n",
                        "turnpike_queued_packets 3\n",
                        "turnpike_suspended_seconds_total 1.500000\n",
                        "turnpike_relayed_packets_total{direction=\"client_to_peer\"} 0\n");
    }

    @Test
    void workersAreSummedAndOnlyAFewSeriesAreToldByWorker() {
        LoopSnapshot sum = twoWorkers();
        assertThat(sum.takenAtNs()).as("as old as the oldest worker's").isEqualTo(1_000);
        String text = Metrics.render(sum);
        assertThat(text)
                .contains(
                        "turnpike_dropped_packets_total{reason=\"no_permission\"} 4\n",
                        "turnpike_buffered_packets_total 14\n",
                        "turnpike_queued_packets 6\n",
                        "turnpike_queued_bytes 9000\n",
                        "turnpike_suspended_seconds_total 3\n",
                        "turnpike_worker_suspended_seconds_total{worker=\"0\"} 1.500000\n",
                        "turnpike_worker_suspended_seconds_total{worker=\"1\"} 1.500000\n",
                        "turnpike_worker_allocations{worker=\"1\"} 0\n");
        assertThat(text).doesNotContain("turnpike_relayed_packets_total{worker");
        assertThat(Metrics.render(snapshot(0))).as("a lone loop's own snapshot").doesNotContain("worker=");
    }

    private static HttpResponse<String> get(MetricsServer server, String method, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
        return HTTP.send(
                HttpRequest.newBuilder(uri)
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static MetricsServer server(
            java.util.function.Supplier<LoopSnapshot> snapshots,
            java.util.function.Supplier<CompletableFuture<List<AllocationSummary>>> allocations)
            throws IOException {
        return new MetricsServer(
                new InetSocketAddress("127.0.0.1", 0),
                snapshots,
                allocations,
                new AdminAccess(null),
                new Controls(),
                new Actions());
    }

    /** The lifecycle as the endpoints see it, set by hand: what each endpoint does with it is under test here. */
    private static final class Controls implements RelayControls {
        volatile boolean draining;
        volatile boolean readyWhileDraining;
        final List<String> drains = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile ReloadOutcome nextReload = new ReloadOutcome(true, "changed --user-quota");

        @Override
        public boolean ready(LoopSnapshot snapshot, long nowNs) {
            return snapshot != null
                    && nowNs - snapshot.takenAtNs() < MetricsServer.STALE_NS
                    && (!draining || readyWhileDraining);
        }

        @Override
        public boolean draining() {
            return draining;
        }

        @Override
        public boolean drain(String trigger) {
            drains.add(trigger);
            boolean first = !draining;
            draining = true;
            return first;
        }

        @Override
        public ReloadOutcome reload(String trigger) {
            return nextReload;
        }

        @Override
        public String metrics() {
            return Metrics.renderLifecycle(draining, 1, 0);
        }
    }

    private static MetricsServer server(Controls controls, LoopSnapshot snapshot) throws IOException {
        return new MetricsServer(
                new InetSocketAddress("127.0.0.1", 0),
                () -> snapshot,
                () -> CompletableFuture.completedFuture(List.of()),
                new AdminAccess(null),
                controls,
                new Actions());
    }

    /** The operator's actions as the endpoints see them: what was asked is recorded, the answers set by hand. */
    private static final class Actions implements OperatorActions {
        final List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.Map<String, Long> revoked = new java.util.concurrent.ConcurrentSkipListMap<>();
        volatile boolean failing;

        @Override
        public boolean end(long id, String by) throws Exception {
            asked.add("end " + id + " by " + by);
            if (failing) {
                throw new java.util.concurrent.ExecutionException(new java.io.IOException("the loop is gone"));
            }
            return id == 7;
        }

        @Override
        public int revoke(String name, long untilEpochSeconds, String by) throws Exception {
            asked.add("revoke " + name + " " + untilEpochSeconds);
            if (failing) {
                throw new java.io.IOException("cannot write /state/revocations");
            }
            revoked.put(name, untilEpochSeconds);
            return 2;
        }

        @Override
        public boolean lift(String name, String by) {
            return revoked.remove(name) != null;
        }

        @Override
        public java.util.Map<String, Long> revocations() {
            return revoked;
        }

        @Override
        public StatusFacts statusFacts(List<AllocationSummary> live) {
            return new StatusFacts(2, List.of("udp 127.0.0.1:3478"), List.of(), List.of(), List.of());
        }

        @Override
        public String usage(boolean csv) {
            return csv ? "kind,key\n" : "{\"since\":\"x\"}\n";
        }

        @Override
        public boolean persistent() {
            return true;
        }
    }

    @Test
    void theOperatorEndsAnAllocationAndRevokesAndLiftsACredentialByItsEndpoints() throws Exception {
        Actions actions = new Actions();
        try (MetricsServer server = new MetricsServer(
                new InetSocketAddress("127.0.0.1", 0),
                () -> null,
                () -> CompletableFuture.completedFuture(List.of()),
                new AdminAccess(null),
                new Controls(),
                actions)) {
            HttpResponse<String> ended = get(server, "DELETE", "/allocations/7");
            assertThat(ended.statusCode()).isEqualTo(200);
            assertThat(ended.body()).isEqualTo("ended allocation 7\n");
            assertThat(actions.asked).containsExactly("end 7 by 127.0.0.1 (loopback)");
            assertThat(get(server, "DELETE", "/allocations/8").statusCode()).isEqualTo(404);
            assertThat(get(server, "DELETE", "/allocations/seven").statusCode()).isEqualTo(400);
            assertThat(get(server, "DELETE", "/allocations/").statusCode()).isEqualTo(400);
            assertThat(get(server, "DELETE", "/allocations/" + Long.MAX_VALUE).statusCode())
                    .as("the largest id: no such allocation")
                    .isEqualTo(404);
            assertThat(get(server, "DELETE", "/allocations/99999999999999999999")
                            .statusCode())
                    .as("past a long")
                    .isEqualTo(400);
            assertThat(get(server, "GET", "/allocations/7").statusCode()).isEqualTo(405);

            HttpResponse<String> revoked = get(server, "PUT", "/revocations/1800000000:carol:customer-42");
            assertThat(revoked.statusCode()).isEqualTo(200);
            assertThat(revoked.body())
                    .isEqualTo("revoked 1800000000:carol:customer-42 for good; 2 allocation(s) ended\n");
            assertThat(get(server, "PUT", "/revocations/bob?until=2030-01-01T00:00:00Z")
                            .body())
                    .isEqualTo("revoked bob until 2030-01-01T00:00:00Z; 2 allocation(s) ended\n");
            assertThat(actions.revoked).containsEntry("bob", 1_893_456_000L);
            assertThat(get(server, "PUT", "/revocations/dave?until=1893456000").statusCode())
                    .isEqualTo(200);
            HttpResponse<String> badTime = get(server, "PUT", "/revocations/bob?until=soon");
            assertThat(badTime.statusCode()).isEqualTo(400);
            assertThat(badTime.body()).startsWith("until=soon (expected: an ISO-8601 time");
            assertThat(get(server, "PUT", "/revocations/a%0Ab").statusCode())
                    .as("a line break")
                    .isEqualTo(400);
            assertThat(get(server, "PUT", "/revocations/").statusCode())
                    .as("no name")
                    .isEqualTo(400);
            assertThat(get(server, "PUT", "/revocations/" + "n".repeat(513)).statusCode())
                    .as("the longest USERNAME")
                    .isEqualTo(200);
            assertThat(get(server, "PUT", "/revocations/" + "n".repeat(514)).statusCode())
                    .isEqualTo(400);
            assertThat(get(server, "PUT", "/revocations/bob?until=99999999999999999999")
                            .statusCode())
                    .as("a time past a long")
                    .isEqualTo(400);
            assertThat(get(server, "PUT", "/revocations/bob?until=").statusCode())
                    .as("an empty time")
                    .isEqualTo(400);

            HttpResponse<String> listed = get(server, "GET", "/revocations");
            assertThat(listed.body())
                    .contains("{\"name\":\"1800000000:carol:customer-42\",\"until\":null}")
                    .contains("{\"name\":\"bob\",\"until\":\"2030-01-01T00:00:00Z\"}");
            assertThat(get(server, "DELETE", "/revocations/bob").statusCode()).isEqualTo(200);
            assertThat(get(server, "DELETE", "/revocations/bob").statusCode()).isEqualTo(404);
            assertThat(get(server, "POST", "/revocations/bob").statusCode()).isEqualTo(405);

            HttpResponse<String> usage = get(server, "GET", "/usage");
            assertThat(usage.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(usage.body()).isEqualTo("{\"since\":\"x\"}\n");
            HttpResponse<String> csv = get(server, "GET", "/usage?format=csv");
            assertThat(csv.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
            assertThat(csv.body()).isEqualTo("kind,key\n");
            assertThat(get(server, "POST", "/usage").statusCode()).isEqualTo(405);

            HttpResponse<String> page = get(server, "GET", "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.headers().firstValue("Content-Security-Policy"))
                    .hasValue("default-src 'none'; style-src 'unsafe-inline'");
            assertThat(page.body()).contains("<title>Turnpike status</title>", "2 workers", "udp 127.0.0.1:3478");
            assertThat(get(server, "POST", "/").statusCode()).isEqualTo(405);

            actions.failing = true;
            HttpResponse<String> failed = get(server, "PUT", "/revocations/eve");
            assertThat(failed.statusCode()).isEqualTo(500);
            assertThat(failed.body()).isEqualTo("eve not revoked: cannot write /state/revocations\n");
            assertThat(get(server, "DELETE", "/allocations/7").body())
                    .isEqualTo("allocation 7 not ended: the loop is gone\n");
        }
    }

    @Test
    void readyzIsReadyWhileTheLoopRunsAndNotWhileDrainingUnlessAskedTo() throws Exception {
        Controls controls = new Controls();
        try (MetricsServer server = server(controls, snapshot(System.nanoTime() + 60_000_000_000L))) {
            assertThat(get(server, "GET", "/readyz").statusCode()).isEqualTo(200);
            controls.draining = true;
            HttpResponse<String> draining = get(server, "GET", "/readyz");
            assertThat(draining.statusCode()).isEqualTo(503);
            assertThat(draining.body()).isEqualTo("draining\n");
            assertThat(get(server, "GET", "/healthz").statusCode())
                    .as("alive all the same")
                    .isEqualTo(200);
            controls.readyWhileDraining = true;
            assertThat(get(server, "GET", "/readyz").statusCode()).isEqualTo(200);
        }
        try (MetricsServer server = server(new Controls(), null)) {
            assertThat(get(server, "GET", "/readyz").statusCode())
                    .as("not yet running")
                    .isEqualTo(503);
        }
    }

    @Test
    void postDrainStartsOneDrainAndOnlyPostIsAccepted() throws Exception {
        Controls controls = new Controls();
        try (MetricsServer server = server(controls, snapshot(System.nanoTime()))) {
            assertThat(get(server, "GET", "/drain").statusCode()).isEqualTo(405);
            assertThat(controls.drains).isEmpty();
            HttpResponse<String> first = get(server, "POST", "/drain");
            assertThat(first.statusCode()).isEqualTo(202);
            assertThat(first.body()).isEqualTo("draining\n");
            assertThat(get(server, "POST", "/drain").body()).isEqualTo("already draining\n");
            assertThat(controls.drains).containsExactly("POST /drain", "POST /drain");
            assertThat(get(server, "GET", "/metrics").body()).contains("turnpike_draining 1\n");
            assertThat(get(server, "POST", "/metrics").statusCode()).isEqualTo(405);
        }
    }

    @Test
    void postReloadAnswersWhatChangedOrWhyItWasRefused() throws Exception {
        Controls controls = new Controls();
        try (MetricsServer server = server(controls, snapshot(System.nanoTime()))) {
            HttpResponse<String> applied = get(server, "POST", "/reload");
            assertThat(applied.statusCode()).isEqualTo(200);
            assertThat(applied.body()).isEqualTo("reloaded: changed --user-quota\n");
            controls.nextReload = new ReloadOutcome(false, "--listen changed, which takes a restart");
            HttpResponse<String> refused = get(server, "POST", "/reload");
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(refused.body()).isEqualTo("refused: --listen changed, which takes a restart\n");
            assertThat(get(server, "GET", "/reload").statusCode()).isEqualTo(405);
        }
    }

    @Test
    void allocationsAreListedAsJsonFromTheCopyTheLoopTakes() throws Exception {
        AllocationSummary alice = new AllocationSummary(
                7,
                "1796025869:ali\"ce",
                new InetSocketAddress("198.51.100.7", 40000),
                new InetSocketAddress("203.0.113.10", 50000),
                null,
                12,
                588,
                2,
                1,
                5,
                500,
                6,
                600);
        try (MetricsServer server = server(() -> null, () -> CompletableFuture.completedFuture(List.of(alice)))) {
            HttpResponse<String> listed = get(server, "GET", "/allocations");
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(listed.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(listed.body())
                    .isEqualTo("[\n{\"id\":7,\"user\":\"1796025869:ali\\\"ce\",\"client\":\"198.51.100.7:40000\","
                            + "\"relayedIpv4\":\"203.0.113.10:50000\",\"relayedIpv6\":null,\"ageSeconds\":12,"
                            + "\"lifetimeLeftSeconds\":588,\"permissions\":2,\"channels\":1,\"packetsToPeers\":5,"
                            + "\"bytesToPeers\":500,\"packetsToClient\":6,\"bytesToClient\":600}\n]\n");
            HttpResponse<String> table = HTTP.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://127.0.0.1:" + server.address().getPort() + "/allocations"))
                            .header("Accept", "text/plain")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(table.body())
                    .startsWith("ID ")
                    .containsPattern(
                            "(?m)^7\\s+1796025869:ali\"ce\\s+198\\.51\\.100\\.7:40000\\s+203\\.0\\.113\\.10:50000\\s+12s\\s+588s")
                    .endsWith("1 allocation(s)\n");
        }
        try (MetricsServer server = server(() -> null, CompletableFuture::new)) {
            assertThat(get(server, "GET", "/allocations").statusCode())
                    .as("a loop that does not answer")
                    .isEqualTo(503);
        }
    }

    @Test
    void theServerAnswersMetricsHealthAndNothingElse() throws Exception {
        AtomicReference<LoopSnapshot> latest = new AtomicReference<>();
        try (MetricsServer server = server(latest::get, () -> CompletableFuture.completedFuture(List.of()))) {
            assertThat(get(server, "GET", "/healthz").statusCode())
                    .as("before the loop published")
                    .isEqualTo(503);
            assertThat(get(server, "GET", "/metrics").statusCode()).isEqualTo(503);

            latest.set(snapshot(System.nanoTime()));
            HttpResponse<String> health = get(server, "GET", "/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok\n");
            HttpResponse<String> metrics = get(server, "GET", "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
            assertThat(metrics.body()).contains("turnpike_buffered_packets_total 7");

            assertThat(get(server, "GET", "/metricsx").statusCode()).isEqualTo(404);
            assertThat(get(server, "GET", "/nothing-here").statusCode()).isEqualTo(404);
            assertThat(get(server, "GET", "/").headers().firstValue("Content-Type"))
                    .as("/ is the status page now")
                    .hasValue("text/html; charset=utf-8");
            HttpResponse<String> post = get(server, "POST", "/metrics");
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
            assertThat(get(server, "HEAD", "/healthz").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void healthTurnsBadWhenTheLoopStopsPublishing() throws IOException, Exception {
        LoopSnapshot old = snapshot(System.nanoTime() - MetricsServer.STALE_NS - 1);
        try (MetricsServer server = server(() -> old, () -> CompletableFuture.completedFuture(List.of()))) {
            HttpResponse<String> health = get(server, "GET", "/healthz");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("has not run");
            assertThat(get(server, "GET", "/metrics").statusCode())
                    .as("the last counters are still served")
                    .isEqualTo(200);
        }
    }
}
