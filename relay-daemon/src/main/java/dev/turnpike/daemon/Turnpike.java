package dev.turnpike.daemon;

import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.cli.AdminCommand;
import dev.turnpike.daemon.cli.ConfigDefaults;
import dev.turnpike.daemon.cli.CredentialsCommand;
import dev.turnpike.daemon.cli.DescriptorBudget;
import dev.turnpike.daemon.cli.HelpLayout;
import dev.turnpike.daemon.cli.ImportCoturnCommand;
import dev.turnpike.daemon.cli.ParsedCommandLine;
import dev.turnpike.daemon.cli.ProbeCommand;
import dev.turnpike.daemon.cli.RelayOptions;
import dev.turnpike.daemon.cli.SecretFiles;
import dev.turnpike.daemon.cli.Settings;
import dev.turnpike.daemon.cli.StartupException;
import dev.turnpike.daemon.http.AdminAccess;
import dev.turnpike.daemon.http.BuildInfo;
import dev.turnpike.daemon.http.Metrics;
import dev.turnpike.daemon.http.MetricsServer;
import dev.turnpike.daemon.http.RelayControls;
import dev.turnpike.daemon.http.ReloadOutcome;
import dev.turnpike.daemon.log.Logging;
import dev.turnpike.daemon.loop.EventLoop;
import dev.turnpike.daemon.loop.KernelTransmitter;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.loop.SocketOptions;
import dev.turnpike.daemon.sys.Addresses;
import dev.turnpike.daemon.sys.SignalSetup;
import dev.turnpike.daemon.sys.SystemdNotifier;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The {@code turnpike} command: parses flags, starts the event loop, stops cleanly on SIGTERM/SIGINT. */
@Command(
        name = "turnpike",
        mixinStandardHelpOptions = true,
        versionProvider = Turnpike.VersionProvider.class,
        sortOptions = false,
        abbreviateSynopsis = true,
        subcommands = {CredentialsCommand.class, ProbeCommand.class, AdminCommand.class, ImportCoturnCommand.class},
        description = "A TURN/STUN relay (RFC 8489, RFC 8656) for clients over UDP, TCP and TLS.",
        footer = {
            "",
            "Every option may also come from an environment variable (--relay-ports: TURNPIKE_RELAY_PORTS)",
            "or a key in the --config file (relay-ports = 49152-65535). Flags win, then the environment.",
            "Repeatable options take a comma-separated list there, or a line each in the file."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:stopped on purpose (SIGTERM after its drain, SIGINT), or a subcommand passed",
            "1:could not start (a port held, no address) or failed while running, or a probe failed",
            "2:a bad flag, variable or config-file key, named in one line"
        })
public final class Turnpike implements Callable<Integer> {
    private static final int DEFAULT_PORT = 3478;

    @Mixin
    RelayOptions options = new RelayOptions();

    /** Set by main before a deliberate exit, so the shutdown hook leaves the exit status alone. */
    private static volatile boolean exitingOnPurpose;

    /** What this command was run with, for a reload to read again. */
    private String[] args = new String[0];

    private CommandLine commandLine;

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        exitingOnPurpose = true;
        System.exit(code);
    }

    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Turnpike turnpike = new Turnpike();
        turnpike.args = args.clone();
        CommandLine commandLine = new CommandLine(turnpike);
        turnpike.commandLine = commandLine;
        HelpLayout.install(commandLine);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        ConfigDefaults defaults;
        try {
            defaults = ConfigDefaults.load(commandLine, args, System.getenv());
        } catch (CommandLine.ParameterException e) {
            err.println("turnpike: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        commandLine.setDefaultValueProvider(defaults);
        // A bad value names where it came from: the flag, the environment variable, or the config file's key.
        commandLine.setParameterExceptionHandler((e, ignored) -> {
            err.println("turnpike: "
                    + defaults.sourced(e.getMessage(), e.getCommandLine().getParseResult()));
            return CommandLine.ExitCode.USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            err.println("turnpike: " + defaults.sourced(e.getMessage(), parsed));
            return e instanceof StartupException s ? s.exitCode : CommandLine.ExitCode.SOFTWARE;
        });
        return commandLine.execute(args);
    }

    /**
     * The command line parsed again from {@code args}, {@code env} and the config file as it is now: a reload.
     *
     * @throws IllegalArgumentException naming the flag, variable or file key of a bad value
     */
    static ParsedCommandLine parse(String[] args, Map<String, String> env) {
        Turnpike turnpike = new Turnpike();
        CommandLine commandLine = new CommandLine(turnpike);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            ConfigDefaults defaults = ConfigDefaults.load(commandLine, args, env);
            commandLine.setDefaultValueProvider(defaults);
            try {
                commandLine.parseArgs(args);
            } catch (CommandLine.ParameterException e) {
                throw new IllegalArgumentException(
                        defaults.sourced(e.getMessage(), e.getCommandLine().getParseResult()), e);
            }
            return new ParsedCommandLine(commandLine, defaults, turnpike.options);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws Exception {
        Logging.configure(options.logLevel.level, options.logFormat);
        Logger log = LoggerFactory.getLogger(Turnpike.class);
        List<InetSocketAddress> listenAddresses = options.listen.isEmpty() ? everyLocalAddress() : options.listen;

        Settings settings = Settings.from(options, listenAddresses);
        Listeners listeners = settings.listeners(listenAddresses);
        String lowered = settings.checkDescriptors(listeners.count(), DescriptorBudget.processLimit());
        javax.net.ssl.SSLContext tls = settings.tlsContext(System.getenv());
        Workers workers;
        try {
            workers = Workers.bind(
                    settings.workers(),
                    listeners,
                    tls,
                    settings.dtls(System.getenv()),
                    settings.streamLimits(),
                    settings.proxyProtocol(),
                    settings.httpsBackend(),
                    PooledByteBufAllocator.DEFAULT,
                    new SocketOptions(
                            options.receiveBuffer,
                            options.sendBuffer,
                            options.benchmarkDropWhenFull,
                            !options.benchmarkPlainReceive,
                            options.maxQueuedBytes,
                            options.suspend == RelayOptions.Suspend.LOOP,
                            settings.workers() > 1,
                            options.dscpPreserve));
        } catch (IOException e) {
            throw new StartupException(e.getMessage(), 1);
        }
        EventLoop loop = workers.first();
        List<InetSocketAddress> bound = loop.boundListeners();
        workers.attach(settings.relayConfigs(listeners.bound(bound)));
        for (Listeners.Listener l : listeners.bound(bound).all()) {
            log.atInfo()
                    .addKeyValue("listen", Addresses.format(l.address()))
                    .addKeyValue("transport", l.transport().label())
                    .log("listening");
        }
        settings.logSummary(log);
        if (lowered != null) {
            log.atWarn().log(lowered);
        }
        log.atInfo()
                .addKeyValue("receive", loop.datagrams().receiveMode())
                .addKeyValue("dscpPreserve", loop.datagrams().trafficClassMode(options.dscpPreserve))
                .addKeyValue("emptyDatagrams", KernelTransmitter.exactForEmptyDatagrams() ? "sendto" : "assumed sent")
                .log("sockets ready");
        int granted = loop.datagrams().effectiveReceiveBuffer();
        if (options.receiveBuffer > 0 && granted < options.receiveBuffer) {
            log.atWarn()
                    .addKeyValue("requested", options.receiveBuffer)
                    .addKeyValue("granted", granted)
                    .log(
                            "the kernel capped the receive buffer: raise net.core.rmem_max (sysctl) so bursts are not dropped");
        }

        SystemdNotifier systemd = SystemdNotifier.fromEnvironment(System.getenv());
        Lifecycle lifecycle = new Lifecycle(workers, systemd, Lifecycle.DrainSettings.of(options));
        String token = options.adminTokenFile == null
                ? null
                : SecretFiles.read("--admin-token-file", options.adminTokenFile, System.getenv())
                        .get(0);
        AdminAccess admin = new AdminAccess(token);
        Reload reload = new Reload(
                args,
                System.getenv(),
                Turnpike::parse,
                listenAddresses,
                bound,
                commandLine,
                settings,
                token,
                workers,
                lifecycle,
                admin);
        Operator operator = Operator.create(
                workers,
                options,
                listeners.bound(bound).all().stream()
                        .map(l -> l.transport().label() + " " + Addresses.format(l.address()))
                        .toList(),
                log);
        MetricsServer metrics = null;
        if (options.metricsListen != null) {
            try {
                metrics = new MetricsServer(
                        options.metricsListen,
                        workers::published,
                        workers::allocations,
                        admin,
                        new Controls(lifecycle, reload),
                        operator);
            } catch (IOException e) {
                throw new StartupException(
                        "cannot serve metrics on " + Addresses.format(options.metricsListen) + ": " + e.getMessage(),
                        1);
            }
            log.atInfo()
                    .addKeyValue("metrics", "http://" + Addresses.format(metrics.address()) + "/metrics")
                    .addKeyValue("health", "http://" + Addresses.format(metrics.address()) + "/healthz")
                    .addKeyValue("ready", "http://" + Addresses.format(metrics.address()) + "/readyz")
                    .addKeyValue("status", "http://" + Addresses.format(metrics.address()) + "/")
                    .log("metrics served");
            operator.startHistory();
        }

        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (exitingOnPurpose) {
                                return;
                            }
                            // SIGINT (or SIGTERM where it cannot be handled): stop at once, let the main thread
                            // say so, and exit 0 rather than the JVM's 128+signal.
                            workers.stop();
                            try {
                                stopped.await(5, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            Logging.stop();
                            Runtime.getRuntime().halt(failure.get() == null ? 0 : 1);
                        },
                        "turnpike-shutdown"));
        // SIGTERM drains (the second stops at once), SIGHUP reloads; where the JVM cannot take them, SIGTERM
        // keeps its default (the hook above: stop at once) and there is no SIGHUP reload.
        SignalSetup.install(log, lifecycle::terminate, () -> reload.reload("SIGHUP"), options.metricsListen != null);
        if (tls != null || !options.listenDtls.isEmpty()) {
            reload.watchCertificates();
        }
        workers.start(failure, log);
        log.atInfo()
                .addKeyValue("version", BuildInfo.VERSION)
                .addKeyValue("workers", workers.count())
                .log("turnpike started");
        systemd.ready(() -> {
            LoopSnapshot snapshot = workers.published();
            return snapshot != null && System.nanoTime() - snapshot.takenAtNs() < MetricsServer.STALE_NS;
        });
        workers.join();
        logCounters(log, workers.finalCounters());
        systemd.close();
        if (metrics != null) {
            metrics.close();
        }
        stopped.countDown();
        if (failure.get() != null) {
            return CommandLine.ExitCode.SOFTWARE;
        }
        return CommandLine.ExitCode.OK;
    }

    /** The process's counters, every worker's summed, when it stops; with several, each one's allocations too. */
    private static void logCounters(Logger log, LoopSnapshot last) {
        RelayCounters c = last.relay();
        LoopCounters l = last.loop();
        var event = log.atInfo()
                .addKeyValue("allocations", c.allocationsCreated())
                .addKeyValue(
                        "allocationsByWorker",
                        last.workers().stream()
                                .map(w -> w.relay().allocationsCreated())
                                .toList())
                .addKeyValue("allocationsRefusedNoPort", c.allocationsRefusedNoPort())
                .addKeyValue("allocationsRefusedQuota", c.allocationsRefusedQuota())
                .addKeyValue("packetsClientToPeer", c.packetsClientToPeer())
                .addKeyValue("packetsPeerToClient", c.packetsPeerToClient())
                .addKeyValue("bytesClientToPeer", c.bytesClientToPeer())
                .addKeyValue("bytesPeerToClient", c.bytesPeerToClient())
                .addKeyValue("sameRelayInside", c.sameRelayInside())
                .addKeyValue("sameRelayThroughHost", c.sameRelayThroughHost())
                .addKeyValue("iterations", l.iterations)
                .addKeyValue("datagramsReceived", l.datagramsReceived)
                .addKeyValue("datagramsSent", l.datagramsSent)
                .addKeyValue("packetsBuffered", l.packetsBuffered)
                .addKeyValue("bufferedMsTotal", l.bufferedNs / 1_000_000)
                .addKeyValue("suspendedMs", l.suspendedNs / 1_000_000)
                .addKeyValue("droppedFullBuffer", l.droppedFullBuffer)
                .addKeyValue("droppedShed", l.droppedShed);
        for (RelayCounters.Drop reason : RelayCounters.Drop.values()) {
            event = event.addKeyValue("dropped" + reason.name(), c.dropped(reason));
        }
        event = event.addKeyValue("droppedSEND_ERROR", l.sendErrors)
                .addKeyValue("queuedBytesHighWater", l.queuedBytesHighWater);
        if (c.tcpRelay(RelayCounters.TcpRelay.CONNECTS) + c.tcpRelay(RelayCounters.TcpRelay.ACCEPTED) > 0) {
            for (RelayCounters.TcpRelay e : RelayCounters.TcpRelay.values()) {
                event = event.addKeyValue("tcpRelay" + e.name(), c.tcpRelay(e));
            }
            event = event.addKeyValue("tcpRelayBytesToPeers", l.tcpRelayBytesToPeers)
                    .addKeyValue("tcpRelayBytesFromPeers", l.tcpRelayBytesFromPeers)
                    .addKeyValue("connectionsPassed", l.streamsPassed);
        }
        event.log("stopped");
    }

    private static List<InetSocketAddress> everyLocalAddress() throws IOException {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (InetAddress address : Addresses.localAddresses()) {
            addresses.add(new InetSocketAddress(address, DEFAULT_PORT));
        }
        if (addresses.isEmpty()) {
            throw new StartupException("no local address to listen on (expected at least one interface up)", 1);
        }
        return addresses;
    }

    /** The endpoints' view of the lifecycle and the reload. */
    private record Controls(Lifecycle lifecycle, Reload reload) implements RelayControls {
        @Override
        public boolean ready(LoopSnapshot snapshot, long nowNs) {
            return lifecycle.ready(snapshot, nowNs);
        }

        @Override
        public boolean draining() {
            return lifecycle.draining();
        }

        @Override
        public boolean drain(String trigger) {
            return lifecycle.drain(trigger);
        }

        @Override
        public ReloadOutcome reload(String trigger) {
            return reload.reload(trigger);
        }

        @Override
        public String metrics() {
            return Metrics.renderLifecycle(lifecycle.draining(), reload.applied(), reload.refused());
        }
    }

    /** What --version says. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"turnpike " + BuildInfo.VERSION, "Java " + Runtime.version()};
        }
    }
}
