package dev.turnpike.daemon;

import ch.qos.logback.classic.LoggerContext;
import dev.turnpike.daemon.cli.DescriptorBudget;
import dev.turnpike.daemon.cli.ParsedCommandLine;
import dev.turnpike.daemon.cli.RelayOptions;
import dev.turnpike.daemon.cli.SecretFiles;
import dev.turnpike.daemon.cli.Settings;
import dev.turnpike.daemon.cli.StartupException;
import dev.turnpike.daemon.http.AdminAccess;
import dev.turnpike.daemon.http.ReloadOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * A live reload (SIGHUP, POST /reload): the command line read again, with the config file, the users file and the
 * secret files as they are now; checked whole as at start-up; and handed to the loop, which swaps it into the core
 * between two datagrams. Nothing is dropped: allocations, their sockets and their packets stay where they are.
 * What binds sockets takes a restart, so a reload that changes it is refused whole, as is one that does not
 * parse; either way the running configuration stays and the reason is logged in one line.
 */
public final class Reload {
    private static final Logger log = LoggerFactory.getLogger(Reload.class);

    /** Options a running relay cannot take without a restart: they bind sockets or size them. */
    static final Set<String> RESTART_ONLY = Set.of(
            "--listen",
            "--listen-tcp",
            "--listen-tls",
            "--listen-dtls",
            "--proxy-protocol",
            "--proxy-protocol-from",
            "--https-backend",
            "--https-backend-proxy-protocol",
            "--https-backend-h2",
            "--https-backend-idle-timeout",
            "--relay-ports",
            "--workers",
            "--relay-address",
            "--public-address",
            "--metrics-listen",
            "--state-dir",
            "--usage-top",
            "--receive-buffer",
            "--send-buffer",
            "--max-queued-bytes",
            "--suspend",
            "--log-format",
            "--config",
            "--benchmark-plain-receive",
            "--benchmark-drop-when-full");

    private final String[] args;
    private final Map<String, String> env;
    /** Reads the command line, the environment and the config file again. */
    private final java.util.function.BiFunction<String[], Map<String, String>, ParsedCommandLine> parser;

    private final List<InetSocketAddress> listen;
    private final List<InetSocketAddress> bound;
    private final Workers loop;
    private final Lifecycle lifecycle;
    private final AdminAccess admin;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private CommandLine running;
    private Settings runningSettings;
    private String runningToken;
    /** What the certificate and key files held when last loaded, to tell a renewal. */
    private String runningTlsFiles;

    Reload(
            String[] args,
            Map<String, String> env,
            java.util.function.BiFunction<String[], Map<String, String>, ParsedCommandLine> parser,
            List<InetSocketAddress> listen,
            List<InetSocketAddress> bound,
            CommandLine running,
            Settings settings,
            String token,
            Workers loop,
            Lifecycle lifecycle,
            AdminAccess admin) {
        this.args = args.clone();
        this.env = Map.copyOf(env);
        this.parser = parser;
        this.listen = List.copyOf(listen);
        this.bound = List.copyOf(bound);
        this.running = running;
        this.runningSettings = settings;
        this.runningToken = token;
        this.runningTlsFiles = tlsFiles(settings.options());
        this.loop = loop;
        this.lifecycle = lifecycle;
        this.admin = admin;
    }

    long applied() {
        return applied.get();
    }

    long refused() {
        return refused.get();
    }

    /** Reads everything again and applies it, or refuses it whole; {@code trigger} is for the log. */
    synchronized ReloadOutcome reload(String trigger) {
        ReloadOutcome outcome;
        try {
            outcome = apply();
        } catch (IllegalArgumentException | StartupException e) {
            outcome = new ReloadOutcome(false, e.getMessage());
        }
        if (outcome.applied()) {
            applied.incrementAndGet();
            log.atInfo().addKeyValue("trigger", trigger).log("reloaded: " + outcome.message());
        } else {
            refused.incrementAndGet();
            log.atError()
                    .addKeyValue("trigger", trigger)
                    .log("reload refused, the running configuration stays: " + outcome.message());
        }
        return outcome;
    }

    private ReloadOutcome apply() {
        ParsedCommandLine parsed = parser.apply(args, env);
        CommandLine next = parsed.commandLine();
        RelayOptions options = parsed.options();
        Settings settings;
        try {
            settings = Settings.from(options, listen);
            settings.checkDescriptors(listen.size(), DescriptorBudget.processLimit());
        } catch (StartupException e) {
            throw new IllegalArgumentException(parsed.sourced(e.getMessage()), e);
        }
        List<String> changed = changedOptions(running, next);
        List<String> restart = changed.stream().filter(RESTART_ONLY::contains).toList();
        if (!restart.isEmpty()) {
            throw new IllegalArgumentException(String.join(", ", restart) + " changed, which takes a restart");
        }
        if (!settings.users().equals(runningSettings.users()) && !changed.contains("--user")) {
            changed.add("--users-file (its users)");
        }
        if (!settings.secrets().equals(runningSettings.secrets()) && !changed.contains("--auth-secret")) {
            changed.add("--auth-secret-file (its secrets)");
        }
        String token = options.adminTokenFile == null
                ? null
                : SecretFiles.read("--admin-token-file", options.adminTokenFile, env)
                        .get(0);
        if (!Objects.equals(token, runningToken) && !changed.contains("--admin-token-file")) {
            changed.add("--admin-token-file (its token)");
        }
        javax.net.ssl.SSLContext tls;
        dev.turnpike.daemon.dtls.DtlsSettings dtls;
        try {
            tls = settings.tlsContext(env);
            dtls = settings.dtls(env);
        } catch (StartupException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        String tlsFiles = tlsFiles(options);
        if ((tls != null || dtls != null) && !tlsFiles.equals(runningTlsFiles) && !changed.contains("--tls-cert")) {
            changed.add("--tls-cert (its certificate)");
        }
        try {
            loop.reconfigure(settings.relayConfigs(settings.listeners(listen).bound(bound)))
                    .get(5, TimeUnit.SECONDS);
            loop.reconfigureStreams(tls, dtls, settings.streamLimits()).get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalArgumentException(e.getCause().getMessage());
        } catch (IOException | TimeoutException e) {
            throw new IllegalArgumentException("the event loop did not take it: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalArgumentException("interrupted");
        }
        // the core took it: now what lives outside the core
        lifecycle.settings(Lifecycle.DrainSettings.of(options));
        admin.token(token);
        ((LoggerContext) LoggerFactory.getILoggerFactory())
                .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
                .setLevel(options.logLevel.level);
        running = next;
        runningSettings = settings;
        runningToken = token;
        runningTlsFiles = tlsFiles;
        return new ReloadOutcome(true, changed.isEmpty() ? "nothing changed" : "changed " + String.join(", ", changed));
    }

    /**
     * Watches --tls-cert and --tls-key for a renewal (certbot replaces them every two months or so), every ten
     * seconds on a thread of its own, and loads the new pair for connections accepted from then on. A pair that
     * does not load (a key written before its certificate) is logged and tried again at the next change.
     */
    void watchCertificates() {
        java.util.concurrent.ScheduledExecutorService watcher =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(task -> {
                    Thread thread = new Thread(task, "turnpike-certificates");
                    thread.setDaemon(true);
                    return thread;
                });
        watcher.scheduleWithFixedDelay(this::reloadCertificatesIfChanged, 10, 10, TimeUnit.SECONDS);
    }

    synchronized void reloadCertificatesIfChanged() {
        RelayOptions options = runningSettings.options();
        String files = tlsFiles(options);
        if (files.equals(runningTlsFiles)) {
            return;
        }
        runningTlsFiles = files;
        try {
            javax.net.ssl.SSLContext tls = runningSettings.tlsContext(env);
            loop.reconfigureStreams(tls, runningSettings.dtls(env), runningSettings.streamLimits())
                    .get(5, TimeUnit.SECONDS);
            log.atInfo().log("reloaded: --tls-cert and --tls-key changed on disk; new connections get the new pair");
        } catch (StartupException | ExecutionException | TimeoutException e) {
            log.atError().log("TLS certificate not reloaded, new connections keep the old one: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What --tls-cert and --tls-key hold now, as a digest (never the key itself); "" without TLS. */
    private String tlsFiles(RelayOptions options) {
        if ((options.listenTls.isEmpty() && options.listenDtls.isEmpty())
                || options.tlsCert == null
                || options.tlsKey == null) {
            return "";
        }
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            sha.update(java.nio.file.Files.readAllBytes(java.nio.file.Path.of(options.tlsCert)));
            sha.update(java.nio.file.Files.readAllBytes(SecretFiles.resolve(options.tlsKey, env)));
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (IOException | java.security.GeneralSecurityException e) {
            return "unreadable";
        }
    }

    /** The names of the options whose values differ (never the values: some are secrets). */
    static List<String> changedOptions(CommandLine before, CommandLine after) {
        List<String> names = new ArrayList<>();
        for (CommandLine.Model.OptionSpec option : after.getCommandSpec().options()) {
            CommandLine.Model.OptionSpec old = before.getCommandSpec().findOption(option.longestName());
            if (old != null
                    && !option.usageHelp()
                    && !option.versionHelp()
                    && !Objects.equals(old.getValue(), option.getValue())) {
                names.add(option.longestName());
            }
        }
        return names;
    }
}
