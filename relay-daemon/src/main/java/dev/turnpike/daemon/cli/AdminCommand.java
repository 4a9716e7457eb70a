package dev.turnpike.daemon.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code turnpike admin}: the operator's hand on a running relay from a shell, through its admin endpoints
 * ({@code --metrics-listen}; loopback, or the {@code --admin-token-file} token from elsewhere): list the
 * allocations as a table (or JSON), end one, revoke a credential until a time or for good, lift a revocation.
 * Exit 0 when the relay did it, 1 when it answered no (an unknown id) or could not be reached, 2 for bad arguments.
 */
@Command(
        name = "admin",
        mixinStandardHelpOptions = true,
        description = "Act on a running relay: list or end allocations, revoke credentials.",
        subcommands = {
            AdminCommand.ListAllocations.class,
            AdminCommand.End.class,
            AdminCommand.Revoke.class,
            AdminCommand.Unrevoke.class,
            AdminCommand.ListRevocations.class
        })
public final class AdminCommand {
    @Option(
            names = "--admin-url",
            paramLabel = "URL",
            defaultValue = "http://127.0.0.1:9641",
            description = "The relay's admin endpoints: http:// and its --metrics-listen. Default: ${DEFAULT-VALUE}.")
    String url;

    @Option(
            names = "--admin-token-file",
            paramLabel = "PATH",
            description = "A file holding the relay's admin token (its first line), sent as a Bearer token: needed "
                    + "from other than loopback. A relative name is looked up in $CREDENTIALS_DIRECTORY when set.")
    String tokenFile;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Sends {@code method path} (with {@code accept}), prints the answer's body; 0 for a 2xx, else 1. */
    int call(String method, String path, String accept) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(url.replaceAll("/+$", "") + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .header("Accept", accept);
        } catch (IllegalArgumentException e) {
            throw new StartupException("--admin-url " + url + " (expected: http://HOST:PORT, the --metrics-listen)", 2);
        }
        if (tokenFile != null) {
            String token = SecretFiles.read("--admin-token-file", tokenFile, System.getenv())
                    .get(0);
            request.header("Authorization", "Bearer " + token);
        }
        try (HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> answer = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            boolean ok = answer.statusCode() / 100 == 2;
            (ok ? out : err).print(answer.body());
            (ok ? out : err).flush();
            return ok ? 0 : 1;
        } catch (ConnectException e) {
            err.println("turnpike admin: nothing answers at " + url
                    + " (is the relay running with --metrics-listen there?)");
            return 1;
        } catch (IOException e) {
            err.println("turnpike admin: " + url + ": " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A listing for a person, or JSON for scripts. */
    abstract static class Listing implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Option(names = "--json", description = "JSON, for scripts, instead of a table.")
        boolean json;

        /** The admin endpoint that answers it. */
        abstract String path();

        @Override
        public Integer call() {
            return admin.call("GET", path(), json ? "application/json" : "text/plain");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The live allocations, one line each.")
    static final class ListAllocations extends Listing {
        @Override
        String path() {
            return "/allocations";
        }
    }

    @Command(
            name = "end",
            mixinStandardHelpOptions = true,
            description = "End an allocation now: its relay sockets close, its client's next request gets 437.")
    static final class End implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Parameters(paramLabel = "ID", description = "The allocation's id, as 'turnpike admin list' shows it.")
        long id;

        @Override
        public Integer call() {
            return admin.call("DELETE", "/allocations/" + id, "text/plain");
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke a credential: its allocations end now and its requests get 401, until --until or "
                    + "for good; kept across restarts with --state-dir.")
    static final class Revoke implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Parameters(
                paramLabel = "NAME",
                description = "A username; or the name of time-limited credentials (every EXPIRY:NAME[:TAG] minted "
                        + "for it); or one whole EXPIRY:NAME[:TAG] credential.")
        String name;

        @Option(
                names = "--until",
                paramLabel = "TIME",
                description = "When the revocation ends: an ISO-8601 time (2026-12-31T00:00:00Z) or epoch "
                        + "seconds. Default: never.")
        String until;

        @Override
        public Integer call() {
            String query = until == null ? "" : "?until=" + URLEncoder.encode(until, StandardCharsets.UTF_8);
            return admin.call("PUT", "/revocations/" + segment(name) + query, "text/plain");
        }
    }

    @Command(name = "unrevoke", mixinStandardHelpOptions = true, description = "Lift a revocation.")
    static final class Unrevoke implements Callable<Integer> {
        @ParentCommand
        AdminCommand admin;

        @Parameters(paramLabel = "NAME", description = "The name revoked, as 'turnpike admin revocations' shows it.")
        String name;

        @Override
        public Integer call() {
            return admin.call("DELETE", "/revocations/" + segment(name), "text/plain");
        }
    }

    @Command(name = "revocations", mixinStandardHelpOptions = true, description = "The revocations in force.")
    static final class ListRevocations extends Listing {
        @Override
        String path() {
            return "/revocations";
        }
    }
}
