package dev.turnpike.daemon;

import static org.junit.jupiter.api.Assertions.fail;

import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** The packaged daemon ({@code java -jar turnpike.jar}) as a child process, its output in a file. */
final class DaemonProcess implements AutoCloseable {
    private final Background process;

    private DaemonProcess(Background process) {
        this.process = process;
    }

    /**
     * Starts the daemon and waits (at most 20 s) until it logs that it started. Unless {@code args} name a
     * {@code --drain-timeout}, SIGTERM stops it at once ({@code --drain-timeout 0}), as tests that end with live
     * allocations need; the drain has tests of its own.
     */
    static DaemonProcess start(String... args) throws IOException, InterruptedException {
        return start(java.util.Map.of(), args);
    }

    /**
     * A relay as most tests want one: listening on 127.0.0.1:{@code port}, 50 relay ports of its own, realm
     * example.org, user alice:wonderland, peers on loopback allowed; then {@code more} flags.
     */
    static DaemonProcess startRelay(int port, String... more) throws IOException, InterruptedException {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(
                "--listen",
                "127.0.0.1:" + port,
                "--relay-ports",
                Interop.relayPorts(50).flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--allow-peer",
                "127.0.0.0/8"));
        args.addAll(java.util.List.of(more));
        return start(args.toArray(String[]::new));
    }

    /** As {@link #start(String...)}, with {@code environment} added to the daemon's. */
    static DaemonProcess start(java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        return start(java.util.List.of(), environment, args);
    }

    /** As {@link #start(String...)}, with the open-files limit, soft and hard, at {@code limit} (as a container's). */
    static DaemonProcess startWithOpenFilesLimit(int limit, String... args) throws IOException, InterruptedException {
        return start(
                java.util.List.of("bash", "-c", "ulimit -n " + limit + " && exec \"$0\" \"$@\""),
                java.util.Map.of(),
                args);
    }

    /** As {@link #start(String...)}, inside a network namespace. */
    static DaemonProcess startIn(NetworkNamespace namespace, String... args) throws IOException, InterruptedException {
        return start(namespace.prefix(), java.util.Map.of(), args);
    }

    /** As {@link #start(String...)}, started as {@code nohup} starts a program: with SIGHUP ignored. */
    static DaemonProcess startWithSighupIgnored(String... args) throws IOException, InterruptedException {
        // the shell sets the disposition, and exec keeps it (and the PID) for the JVM
        return start(java.util.List.of("sh", "-c", "trap '' HUP; exec \"$@\"", "sh"), java.util.Map.of(), args);
    }

    private static DaemonProcess start(
            java.util.List<String> prefix, java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
        if (!all.contains("--drain-timeout")) {
            all.add("--drain-timeout");
            all.add("0");
        }
        java.util.List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(Interop.javaCommand(all.toArray(String[]::new)));
        DaemonProcess daemon = new DaemonProcess(Background.start(environment, command.toArray(String[]::new)));
        Process process = daemon.process.process();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!daemon.output().contains("turnpike started")) {
            if (!process.isAlive()) {
                fail("turnpike exited with " + process.exitValue() + " at start:\n" + daemon.output());
            }
            if (System.nanoTime() > deadline) {
                daemon.close();
                fail("turnpike did not start within 20 s:\n" + daemon.output());
            }
            Thread.sleep(20); // polling a log file; the condition, not the sleep, is what we wait on
        }
        return daemon;
    }

    String output() throws IOException {
        return process.output();
    }

    private static final java.util.regex.Pattern LISTENING = java.util.regex.Pattern.compile(
            "listening listen=(\\S+) transport=(\\w+)|\"message\":\"listening\".*?\"listen\":\"([^\"]+)\",\"transport\":\"(\\w+)\"");

    /**
     * The addresses the daemon listens on over {@code transport} ("udp", "tcp", "tls"), in the order given, as it
     * logged them at start: with {@code --listen 127.0.0.1:0} the kernel picks a port no other socket holds, so a
     * test never races another process for one it drew and let go.
     */
    java.util.List<InetSocketAddress> listening(String transport) throws IOException {
        java.util.List<InetSocketAddress> found = new java.util.ArrayList<>();
        java.util.regex.Matcher m = LISTENING.matcher(output());
        while (m.find()) {
            String address = m.group(1) != null ? m.group(1) : m.group(3);
            String kind = m.group(1) != null ? m.group(2) : m.group(4);
            if (kind.equals(transport)) {
                found.add(Addresses.parseHostPort(address));
            }
        }
        if (found.isEmpty()) {
            fail("no " + transport + " listener in the start-up lines:\n" + output());
        }
        return found;
    }

    /** The {@code /metrics} address the daemon logged at start ({@code --metrics-listen 127.0.0.1:0}). */
    String metricsUrl() throws IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "metrics=(http://\\S+/metrics)|\"metrics\":\"(http://[^\"]+)\"")
                .matcher(output());
        if (!m.find()) {
            fail("no metrics address in the start-up lines:\n" + output());
        }
        return m.group(1) != null ? m.group(1) : m.group(2);
    }

    /** The first {@code transport} listener (see {@link #listening}). */
    InetSocketAddress listener(String transport) throws IOException {
        return listening(transport).get(0);
    }

    /** Sends SIGTERM and answers the exit code (fails if it takes more than 10 s). */
    int terminate() throws InterruptedException {
        sigterm();
        return awaitExit(10);
    }

    /** Sends SIGTERM, without waiting: a drain begins. */
    void sigterm() {
        process.process().destroy(); // SIGTERM on Linux
    }

    /** Sends {@code signal} ("HUP") with kill(1). */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid()))
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            fail("kill -" + signal + " failed");
        }
    }

    long pid() {
        return process.process().pid();
    }

    boolean alive() {
        return process.process().isAlive();
    }

    /** Waits for the daemon to exit and answers its exit code (fails if it takes more than {@code seconds}). */
    int awaitExit(int seconds) throws InterruptedException {
        Process p = process.process();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("turnpike did not exit within " + seconds + " s");
        }
        return p.exitValue();
    }

    /** Waits (at most {@code seconds}) until the daemon's output contains {@code text}. */
    void awaitOutput(String text, int seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!output().contains(text)) {
            if (System.nanoTime() > deadline) {
                fail("no '" + text + "' within " + seconds + " s:\n" + output());
            }
            Thread.sleep(20); // polling a log file; the condition, not the sleep, is what we wait on
        }
    }

    @Override
    public void close() throws IOException {
        process.close();
    }
}
