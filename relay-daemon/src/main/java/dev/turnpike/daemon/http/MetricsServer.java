package dev.turnpike.daemon.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.turnpike.core.AllocationSummary;
import dev.turnpike.daemon.loop.LoopSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@code --metrics-listen}: GET /metrics (Prometheus text), GET /healthz and GET /readyz over HTTP, served by one
 * thread of its own from the snapshot the loop publishes about once a second, so a scrape never touches the loop.
 * Health means the loop is alive: it published within the last {@link #STALE_NS}; ready means alive and not
 * draining (see {@code Lifecycle.ready}). The admin endpoints answer only on loopback unless
 * {@code --admin-token-file} gives a token (see {@link AdminAccess}): GET /allocations lists the live allocations
 * as JSON from a copy the loop takes on request, POST /reload reloads (see {@code Reload}), POST /drain drains.
 */
public final class MetricsServer implements AutoCloseable {
    /** The loop wakes at least once a second; five seconds without a snapshot means it is stuck or gone. */
    public static final long STALE_NS = 5_000_000_000L;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Supplier<LoopSnapshot> snapshots;
    private final Supplier<CompletableFuture<List<AllocationSummary>>> allocations;
    private final AdminAccess admin;
    private final Controls controls;

    /** What the lifecycle and admin endpoints read and act on: the relay's {@code Lifecycle} and {@code Reload}. */
    public interface Controls {
        /** GET /readyz; see {@code Lifecycle.ready}. */
        boolean ready(LoopSnapshot snapshot, long nowNs);

        boolean draining();

        /** POST /drain: starts a drain; false if one is already under way. */
        boolean drain(String trigger);

        /** POST /reload. */
        ReloadOutcome reload(String trigger);

        /** The lifecycle's own lines for /metrics: draining, reloads. */
        String metrics();
    }

    public MetricsServer(
            InetSocketAddress address,
            Supplier<LoopSnapshot> snapshots,
            Supplier<CompletableFuture<List<AllocationSummary>>> allocations,
            AdminAccess admin,
            Controls controls)
            throws IOException {
        this.snapshots = snapshots;
        this.allocations = allocations;
        this.admin = admin;
        this.controls = controls;
        server = HttpServer.create(address, 16);
        executor = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "turnpike-metrics");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            boolean post = path.equals("/reload") || path.equals("/drain");
            String method = exchange.getRequestMethod();
            if (post ? !method.equals("POST") : !method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", post ? "POST" : "GET, HEAD");
                reply(exchange, 405, "method not allowed\n");
                return;
            }
            LoopSnapshot snapshot = snapshots.get();
            switch (path) {
                case "/metrics" -> {
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    reply(
                            exchange,
                            snapshot == null ? 503 : 200,
                            snapshot == null ? "starting\n" : Metrics.render(snapshot) + controls.metrics());
                }
                case "/healthz" -> {
                    boolean live = snapshot != null && System.nanoTime() - snapshot.takenAtNs() < STALE_NS;
                    reply(exchange, live ? 200 : 503, live ? "ok\n" : "the event loop has not run for 5 s\n");
                }
                case "/readyz" -> {
                    boolean ready = controls.ready(snapshot, System.nanoTime());
                    reply(
                            exchange,
                            ready ? 200 : 503,
                            ready ? "ready\n" : controls.draining() ? "draining\n" : "not running\n");
                }
                case "/allocations", "/reload", "/drain" -> admin(exchange, path);
                default -> reply(exchange, 404, "not found: try /metrics, /healthz, /readyz or /allocations\n");
            }
        }
    }

    private void admin(HttpExchange exchange, String path) throws IOException {
        if (!admin.allows(
                exchange.getRemoteAddress().getAddress(),
                exchange.getRequestHeaders().getFirst("Authorization"))) {
            reply(exchange, 403, "forbidden: " + path + " answers on loopback, or with the --admin-token-file token\n");
            return;
        }
        switch (path) {
            case "/allocations" -> allocations(exchange);
            case "/reload" -> {
                ReloadOutcome outcome = controls.reload("POST /reload");
                reply(
                        exchange,
                        outcome.applied() ? 200 : 409,
                        (outcome.applied() ? "reloaded: " : "refused: ") + outcome.message() + "\n");
            }
            default -> {
                boolean started = controls.drain("POST /drain");
                reply(exchange, 202, started ? "draining\n" : "already draining\n");
            }
        }
    }

    private void allocations(HttpExchange exchange) throws IOException {
        List<AllocationSummary> all;
        try {
            all = allocations.get().get(2, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            reply(exchange, 503, "the event loop did not answer within 2 s\n");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reply(exchange, 503, "interrupted\n");
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        reply(exchange, 200, AllocationsJson.render(all));
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (exchange.getResponseHeaders().getFirst("Content-Type") == null) {
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        }
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
