package dev.turnpike.daemon.http;

import com.sun.net.httpserver.HttpExchange;
import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Revocations;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoints that list users or change state, on loopback only unless a token is configured ({@link
 * AdminAccess}):
 *
 * <pre>
 * GET    /                         the status page: HTML for a person, no script, no other request
 * GET    /allocations              the live allocations: JSON, or a table for Accept: text/plain
 * DELETE /allocations/{id}         ends one now (its client's next request gets 437)
 * GET    /usage                    usage by tag and by name: JSON, or CSV (?format=csv)
 * GET    /revocations              the revocations in force: JSON, or a table for Accept: text/plain
 * PUT    /revocations/{name}[?until=T]   revokes a username or a name until T (ISO-8601 or epoch seconds) or for good
 * DELETE /revocations/{name}       lifts a revocation
 * POST   /reload, POST /drain
 * </pre>
 *
 * Each change is logged at INFO with who asked (the peer's address, and whether it showed the token).
 */
final class AdminEndpoints {
    private static final Logger log = LoggerFactory.getLogger(AdminEndpoints.class);

    private final Supplier<CompletableFuture<List<AllocationSummary>>> allocations;
    private final Supplier<dev.turnpike.daemon.loop.LoopSnapshot> snapshots;
    private final RelayControls controls;
    private final OperatorActions actions;

    AdminEndpoints(
            Supplier<dev.turnpike.daemon.loop.LoopSnapshot> snapshots,
            Supplier<CompletableFuture<List<AllocationSummary>>> allocations,
            RelayControls controls,
            OperatorActions actions) {
        this.allocations = allocations;
        this.snapshots = snapshots;
        this.controls = controls;
        this.actions = actions;
    }

    /** Whether {@code path} is one of these endpoints'. */
    static boolean serves(String path) {
        return path.equals("/")
                || path.equals("/allocations")
                || path.startsWith("/allocations/")
                || path.equals("/revocations")
                || path.startsWith("/revocations/")
                || path.equals("/usage")
                || path.equals("/reload")
                || path.equals("/drain");
    }

    /** Answers {@code exchange}, whose access {@link AdminAccess} has allowed; {@code by} is who asked. */
    void handle(HttpExchange exchange, String path, String by) throws IOException {
        String method = exchange.getRequestMethod();
        if (path.equals("/")) {
            if (allowed(exchange, method, "GET", "HEAD")) {
                status(exchange);
            }
        } else if (path.equals("/reload") || path.equals("/drain")) {
            if (allowed(exchange, method, "POST")) {
                lifecycle(exchange, path);
            }
        } else if (path.equals("/allocations")) {
            if (allowed(exchange, method, "GET", "HEAD")) {
                list(exchange);
            }
        } else if (path.startsWith("/allocations/")) {
            if (allowed(exchange, method, "DELETE")) {
                end(exchange, path.substring("/allocations/".length()), by);
            }
        } else if (path.equals("/usage")) {
            if (allowed(exchange, method, "GET", "HEAD")) {
                usage(exchange);
            }
        } else if (path.equals("/revocations")) {
            if (allowed(exchange, method, "GET", "HEAD")) {
                revocations(exchange);
            }
        } else if (allowed(exchange, method, "PUT", "DELETE")) {
            String name = path.substring("/revocations/".length());
            if (method.equals("PUT")) {
                revoke(exchange, name, by);
            } else {
                lift(exchange, name, by);
            }
        }
    }

    private static boolean allowed(HttpExchange exchange, String method, String... methods) throws IOException {
        for (String m : methods) {
            if (m.equals(method)) {
                return true;
            }
        }
        exchange.getResponseHeaders().set("Allow", String.join(", ", methods));
        Replies.reply(exchange, 405, "method not allowed\n");
        return false;
    }

    private void lifecycle(HttpExchange exchange, String path) throws IOException {
        if (path.equals("/reload")) {
            ReloadOutcome outcome = controls.reload("POST /reload");
            Replies.reply(
                    exchange,
                    outcome.applied() ? 200 : 409,
                    (outcome.applied() ? "reloaded: " : "refused: ") + outcome.message() + "\n");
        } else {
            boolean started = controls.drain("POST /drain");
            Replies.reply(exchange, 202, started ? "draining\n" : "already draining\n");
        }
    }

    /** The status page ({@link StatusPage}). */
    private void status(HttpExchange exchange) throws IOException {
        try {
            List<AllocationSummary> live = allocations.get().get(2, TimeUnit.SECONDS);
            StatusFacts facts = actions.statusFacts(live);
            long startedMs =
                    java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            String page = StatusPage.render(new StatusPage.Status(
                    BuildInfo.VERSION,
                    java.time.Duration.ofMillis(Math.max(0, System.currentTimeMillis() - startedMs)),
                    facts.workers(),
                    facts.listeners(),
                    controls.draining(),
                    snapshots.get(),
                    live,
                    facts.history(),
                    facts.topTags(),
                    facts.refusals(),
                    System.nanoTime()));
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            // nothing on the page is to be framed or scripted into another site's
            exchange.getResponseHeaders()
                    .set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
            exchange.getResponseHeaders().set("X-Frame-Options", "DENY");
            Replies.reply(exchange, 200, page);
        } catch (Exception e) {
            failed(exchange, "no status", e);
        }
    }

    private void list(HttpExchange exchange) throws IOException {
        List<AllocationSummary> all;
        try {
            all = allocations.get().get(2, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            Replies.reply(exchange, 503, "the event loop did not answer within 2 s\n");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Replies.reply(exchange, 503, "interrupted\n");
            return;
        }
        if (wantsText(exchange)) {
            Replies.reply(exchange, 200, AllocationsJson.table(all));
        } else {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            Replies.reply(exchange, 200, AllocationsJson.render(all));
        }
    }

    private void end(HttpExchange exchange, String idText, String by) throws IOException {
        long id;
        try {
            id = Long.parseLong(idText);
        } catch (NumberFormatException e) {
            Replies.reply(exchange, 400, "allocation id '" + idText + "' (expected: a number from GET /allocations)\n");
            return;
        }
        try {
            boolean ended = actions.end(id, by);
            log.atInfo()
                    .addKeyValue("id", id)
                    .addKeyValue("by", by)
                    .addKeyValue("ended", ended)
                    .log("end allocation");
            Replies.reply(
                    exchange,
                    ended ? 200 : 404,
                    ended ? "ended allocation " + id + "\n" : "no allocation " + id + " (ended already, or never)\n");
        } catch (Exception e) {
            failed(exchange, "allocation " + id + " not ended", e);
        }
    }

    /** Usage by tag and by name: JSON, or CSV for {@code ?format=csv} or {@code Accept: text/csv}. */
    private void usage(HttpExchange exchange) throws IOException {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        boolean csv = "csv".equals(query(exchange, "format")) || (accept != null && accept.contains("text/csv"));
        try {
            String body = actions.usage(csv);
            exchange.getResponseHeaders().set("Content-Type", csv ? "text/csv; charset=utf-8" : "application/json");
            Replies.reply(exchange, 200, body);
        } catch (Exception e) {
            failed(exchange, "no usage", e);
        }
    }

    private void revocations(HttpExchange exchange) throws IOException {
        Map<String, Long> all = actions.revocations();
        if (wantsText(exchange)) {
            StringBuilder b = new StringBuilder(String.format("%-40s %s%n", "NAME", "REVOKED"));
            all.forEach((name, until) -> b.append(String.format("%-40s %s%n", name, Revocations.describe(until))));
            Replies.reply(exchange, 200, b.toString());
            return;
        }
        StringBuilder b = new StringBuilder("[");
        all.forEach((name, until) -> b.append(b.length() == 1 ? "\n" : ",\n")
                .append("{\"name\":")
                .append(AllocationsJson.string(name))
                .append(",\"until\":")
                .append(
                        until == Revocations.FOREVER
                                ? "null"
                                : AllocationsJson.string(
                                        Instant.ofEpochSecond(until).toString()))
                .append('}'));
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        Replies.reply(exchange, 200, b.append(all.isEmpty() ? "]\n" : "\n]\n").toString());
    }

    private void revoke(HttpExchange exchange, String name, String by) throws IOException {
        String untilText = query(exchange, "until");
        long until;
        try {
            until = untilText == null ? Revocations.FOREVER : until(untilText);
        } catch (IllegalArgumentException e) {
            Replies.reply(
                    exchange,
                    400,
                    "until=" + untilText
                            + " (expected: an ISO-8601 time such as 2026-12-31T00:00:00Z, or epoch seconds)\n");
            return;
        }
        String bad = Revocations.checkName(name);
        if (bad != null) {
            Replies.reply(exchange, 400, "name '" + name + "' (expected: " + bad + ")\n");
            return;
        }
        try {
            int ended = actions.revoke(name, until, by);
            log.atInfo()
                    .addKeyValue("name", name)
                    .addKeyValue("until", Revocations.describe(until))
                    .addKeyValue("allocationsEnded", ended)
                    .addKeyValue("by", by)
                    .log("revoke");
            Replies.reply(
                    exchange,
                    200,
                    "revoked " + name + " " + Revocations.describe(until) + "; " + ended + " allocation(s) ended"
                            + (actions.persistent() ? "" : "; kept in memory only (no --state-dir)") + "\n");
        } catch (Exception e) {
            failed(exchange, name + " not revoked", e);
        }
    }

    private void lift(HttpExchange exchange, String name, String by) throws IOException {
        try {
            boolean lifted = actions.lift(name, by);
            log.atInfo()
                    .addKeyValue("name", name)
                    .addKeyValue("by", by)
                    .addKeyValue("lifted", lifted)
                    .log("unrevoke");
            Replies.reply(
                    exchange, lifted ? 200 : 404, lifted ? "lifted " + name + "\n" : "no revocation of " + name + "\n");
        } catch (Exception e) {
            failed(exchange, "revocation of " + name + " not lifted", e);
        }
    }

    private static void failed(HttpExchange exchange, String what, Exception e) throws IOException {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        log.atWarn().setCause(cause).log(what);
        Replies.reply(exchange, 500, what + ": " + cause.getMessage() + "\n");
    }

    /** An ISO-8601 instant or epoch seconds. */
    static long until(String text) {
        try {
            return Instant.parse(text).getEpochSecond();
        } catch (DateTimeParseException e) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e2) {
                throw new IllegalArgumentException(text, e2);
            }
        }
    }

    private static boolean wantsText(HttpExchange exchange) {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.contains("text/plain");
    }

    /** The decoded value of {@code key} in the request's query, or null. */
    private static String query(HttpExchange exchange, String key) {
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null) {
            return null;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0
                    && URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8)
                            .equals(key)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
