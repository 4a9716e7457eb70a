package dev.turnpike.daemon.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.turnpike.core.AllocationSummary;
import dev.turnpike.daemon.loop.LoopSnapshot;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code --metrics-listen}: GET /metrics (Prometheus text), GET /healthz and GET /readyz over HTTP, served by one
 * thread of its own from the snapshot the loop publishes about once a second, so a scrape never touches the loop.
 * Health means the loop is alive: it published within the last {@link #STALE_NS}; ready means alive and not
 * draining (see {@code Lifecycle.ready}). The admin endpoints answer only on loopback unless
 * {@code --admin-token-file} gives a token (see {@link AdminAccess}): {@link AdminEndpoints} lists and ends
 * allocations, revokes credentials, reloads and drains.
 */
public final class MetricsServer implements AutoCloseable {
    /** The loop wakes at least once a second; five seconds without a snapshot means it is stuck or gone. */
    public static final long STALE_NS = 5_000_000_000L;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Supplier<LoopSnapshot> snapshots;
    private final AdminAccess admin;
    private final AdminEndpoints endpoints;
    private final RelayControls controls;

    public MetricsServer(
            InetSocketAddress address,
            Supplier<LoopSnapshot> snapshots,
            Supplier<CompletableFuture<List<AllocationSummary>>> allocations,
            AdminAccess admin,
            RelayControls controls,
            OperatorActions actions)
            throws IOException {
        this.snapshots = snapshots;
        this.admin = admin;
        this.controls = controls;
        this.endpoints = new AdminEndpoints(snapshots, allocations, controls, actions);
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
            if (AdminEndpoints.serves(path)) {
                admin(exchange, path);
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                Replies.reply(exchange, 405, "method not allowed\n");
                return;
            }
            LoopSnapshot snapshot = snapshots.get();
            switch (path) {
                case "/metrics" -> {
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    Replies.reply(
                            exchange,
                            snapshot == null ? 503 : 200,
                            snapshot == null ? "starting\n" : Metrics.render(snapshot) + controls.metrics());
                }
                case "/healthz" -> {
                    boolean live = snapshot != null && System.nanoTime() - snapshot.takenAtNs() < STALE_NS;
                    Replies.reply(exchange, live ? 200 : 503, live ? "ok\n" : "the event loop has not run for 5 s\n");
                }
                case "/readyz" -> {
                    boolean ready = controls.ready(snapshot, System.nanoTime());
                    Replies.reply(
                            exchange,
                            ready ? 200 : 503,
                            ready ? "ready\n" : controls.draining() ? "draining\n" : "not running\n");
                }
                default -> Replies.reply(exchange, 404, "not found: try /metrics, /healthz, /readyz or /allocations\n");
            }
        }
    }

    private void admin(HttpExchange exchange, String path) throws IOException {
        if (!admin.allows(
                exchange.getRemoteAddress().getAddress(),
                exchange.getRequestHeaders().getFirst("Authorization"))) {
            Replies.reply(
                    exchange,
                    403,
                    "forbidden: " + path + " answers on loopback, or with the --admin-token-file token\n");
            return;
        }
        boolean token = exchange.getRequestHeaders().getFirst("Authorization") != null;
        String by = exchange.getRemoteAddress().getAddress().getHostAddress() + (token ? " (token)" : " (loopback)");
        endpoints.handle(exchange, path, by);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
