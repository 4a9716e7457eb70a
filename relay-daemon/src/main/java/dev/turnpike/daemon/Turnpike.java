package dev.turnpike.daemon;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.turnpike.core.Relay;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
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
        versionProvider = Turnpike.Version.class,
        sortOptions = false,
        subcommands = {CredentialsCommand.class, ProbeCommand.class},
        description = "A TURN/STUN relay (RFC 8489, RFC 8656) over UDP.",
        footer = {
            "",
            "Every option may also come from an environment variable (--relay-ports: TURNPIKE_RELAY_PORTS)",
            "or a key in the --config file (relay-ports = 49152-65535). Flags win, then the environment.",
            "Repeatable options take a comma-separated list there."
        })
public final class Turnpike implements Callable<Integer> {
    private static final int DEFAULT_PORT = 3478;

    @Mixin
    RelayOptions options = new RelayOptions();

    /** Set by main before a deliberate exit, so the shutdown hook leaves the exit status alone. */
    private static volatile boolean exitingOnPurpose;

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        exitingOnPurpose = true;
        System.exit(code);
    }

    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new Turnpike());
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

    @Override
    public Integer call() throws Exception {
        Logging.configure(options.logLevel.level, options.logFormat);
        Logger log = LoggerFactory.getLogger(Turnpike.class);
        List<InetSocketAddress> listenAddresses = options.listen.isEmpty() ? everyLocalAddress() : options.listen;

        Settings settings = Settings.from(options, listenAddresses);
        settings.checkDescriptors(listenAddresses.size(), descriptorLimit());
        EventLoop loop;
        try {
            loop = new EventLoop(
                    listenAddresses,
                    PooledByteBufAllocator.DEFAULT,
                    new SocketOptions(
                            options.receiveBuffer,
                            options.sendBuffer,
                            options.benchmarkDropWhenFull,
                            !options.benchmarkPlainReceive,
                            options.maxQueuedBytes));
        } catch (IOException e) {
            throw new StartupException(e.getMessage(), 1);
        }
        List<InetSocketAddress> bound = loop.boundListeners();
        Relay relay = new Relay(settings.relayConfig(bound), loop.relaySockets());
        loop.attach(relay);
        for (InetSocketAddress address : bound) {
            log.atInfo().addKeyValue("listen", Addresses.format(address)).log("listening");
        }
        settings.logSummary(log);
        log.atInfo()
                .addKeyValue("receive", loop.receiveMode())
                .addKeyValue("emptyDatagrams", KernelTransmitter.exactForEmptyDatagrams() ? "sendto" : "assumed sent")
                .log("sockets ready");
        int granted = loop.effectiveReceiveBuffer();
        if (options.receiveBuffer > 0 && granted < options.receiveBuffer) {
            log.atWarn()
                    .addKeyValue("requested", options.receiveBuffer)
                    .addKeyValue("granted", granted)
                    .log(
                            "the kernel capped the receive buffer: raise net.core.rmem_max (sysctl) so bursts are not dropped");
        }

        MetricsServer metrics = null;
        if (options.metricsListen != null) {
            try {
                AdminAccess admin = new AdminAccess(
                        options.adminTokenFile == null
                                ? null
                                : SecretFiles.read("--admin-token-file", options.adminTokenFile, System.getenv())
                                        .get(0));
                metrics = new MetricsServer(options.metricsListen, loop::published, loop::allocations, admin);
            } catch (IOException e) {
                throw new StartupException(
                        "cannot serve metrics on " + Addresses.format(options.metricsListen) + ": " + e.getMessage(),
                        1);
            }
            log.atInfo()
                    .addKeyValue("metrics", "http://" + Addresses.format(metrics.address()) + "/metrics")
                    .addKeyValue("health", "http://" + Addresses.format(metrics.address()) + "/healthz")
                    .log("metrics served");
        }

        AtomicReference<Throwable> failure = new AtomicReference<>();
        // A FastThreadLocalThread gets netty's thread-local buffer cache without a global setting.
        Thread thread = new FastThreadLocalThread(guarded(loop, failure, log), "turnpike-loop");
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (exitingOnPurpose) {
                                return;
                            }
                            // SIGTERM or SIGINT: stop the loop, say so, and exit 0 rather than the JVM's 128+signal.
                            loop.stop();
                            try {
                                thread.join(5_000);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            Settings.logCounters(log, relay, loop);
                            Logging.stop();
                            Runtime.getRuntime().halt(failure.get() == null ? 0 : 1);
                        },
                        "turnpike-shutdown"));
        thread.start();
        log.atInfo().addKeyValue("version", Version.VERSION).log("turnpike started");
        thread.join();
        if (failure.get() != null) {
            return CommandLine.ExitCode.SOFTWARE;
        }
        return CommandLine.ExitCode.OK;
    }

    /**
     * The loop as the thread runs it: whatever ends it abnormally, an Error too (say a NoSuchMethodError from a
     * mismatched jar, or OutOfMemoryError), is recorded so that the process exits 1 instead of reporting a clean
     * stop. The loop logs its own exceptions; an Error is logged here.
     */
    static Runnable guarded(Runnable loop, AtomicReference<Throwable> failure, Logger log) {
        return () -> {
            try {
                loop.run();
            } catch (RuntimeException e) {
                failure.set(e);
            } catch (Error e) {
                failure.set(e);
                log.atError().setCause(e).log("event loop died");
            }
        };
    }

    /** The process's limit on open files (the JVM raises the soft limit to the hard one at start), or -1. */
    private static long descriptorLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount()
                : -1;
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

    static final class Version implements CommandLine.IVersionProvider {
        static final String VERSION = read();

        private static String read() {
            try (InputStream in = Turnpike.class.getResourceAsStream("/turnpike-version.properties")) {
                Properties properties = new Properties();
                if (in != null) {
                    properties.load(in);
                }
                return properties.getProperty("version", "unknown");
            } catch (IOException e) {
                return "unknown";
            }
        }

        @Override
        public String[] getVersion() {
            return new String[] {"turnpike " + VERSION, "Java " + Runtime.version()};
        }
    }
}
