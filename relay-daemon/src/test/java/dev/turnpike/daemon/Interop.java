package dev.turnpike.daemon;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Real clients nobody here wrote. When one is missing, the test aborts (reported as skipped) on a developer
 * machine, and fails when {@code -Dinterop.required=true}, as CI sets it: a missing client never passes.
 */
public final class Interop {
    private Interop() {}

    public static Path tool(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String message = name + " not found on PATH (apt-get install -y " + debianPackage + ")";
        if (Boolean.getBoolean("interop.required")) {
            fail(message + "; interop.required=true");
        }
        Assumptions.abort(message);
        throw new AssertionError("unreachable");
    }

    /**
     * Ports for listeners and test peers: each handed out once per test JVM, in order from a random start, from
     * a block that neither the kernel's ephemeral range nor {@link #relayPorts} ever draws from, and checked free
     * for UDP and TCP on {@code address} (a port something else holds is skipped). Binding port 0 and closing the
     * socket, as tests once did, let two draws in a row come back equal, and let the kernel hand the port to any
     * other socket before the relay bound it.
     */
    static synchronized int testPort(String address) throws IOException {
        InetAddress ip = InetAddress.getByName(address);
        for (int tries = 0; tries < LISTEN_BLOCK_SIZE; tries++) {
            int port = listenBlockLow() + (nextListenPort++ % LISTEN_BLOCK_SIZE);
            if (handedOut.add(port) && freeForUdpAndTcp(ip, port)) {
                return port;
            }
        }
        throw new IOException("no free port left in the tests' listener block from " + listenBlockLow());
    }

    /** The tests' listener block: 2,000 ports below the relay-port blocks (or, with no room there, above). */
    private static final int LISTEN_BLOCK_SIZE = 2_000;

    private static final java.util.Set<Integer> handedOut = new java.util.HashSet<>();
    private static int nextListenPort = ThreadLocalRandom.current().nextInt(LISTEN_BLOCK_SIZE);

    private static int listenBlockLow() throws IOException {
        int[] ephemeral = ephemeralRange();
        if (ephemeral[0] > RELAY_BLOCKS_BOTTOM) {
            return RELAY_BLOCKS_BOTTOM - LISTEN_BLOCK_SIZE; // 18000-19999, under the relay blocks
        }
        return 65_535 - LISTEN_BLOCK_SIZE; // no room below the ephemeral range: the top, relay blocks end short of it
    }

    private static boolean freeForUdpAndTcp(InetAddress ip, int port) {
        try (DatagramSocket udp = new DatagramSocket(null);
                java.net.ServerSocket tcp = new java.net.ServerSocket()) {
            udp.bind(new java.net.InetSocketAddress(ip, port));
            tcp.bind(new java.net.InetSocketAddress(ip, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int[] ephemeralRange() throws IOException {
        String[] ephemeral = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                .get(0)
                .trim()
                .split("\\s+");
        return new int[] {Integer.parseInt(ephemeral[0]), Integer.parseInt(ephemeral[1])};
    }

    private static final int RELAY_BLOCKS_BOTTOM = 20_000;

    /** A {@code --relay-ports} range: {@code low-high}. */
    record PortRange(int low, int high) {
        String flag() {
            return low + "-" + high;
        }
    }

    /**
     * A random block of {@code size} relay ports outside the kernel's ephemeral range where there is room (below
     * it, else above it), so that the sockets every other process opens with port 0 never land in it; other
     * tests' blocks most likely not either; and never in the tests' listener block ({@link #testPort}). A
     * machine whose ephemeral range covers everything gets a block anywhere above 20000: the relay then tries
     * other ports if one is taken.
     */
    static PortRange relayPorts(int size) throws IOException {
        int[] ephemeral = ephemeralRange();
        int ephemeralLow = ephemeral[0];
        int ephemeralHigh = ephemeral[1];
        int bottom = RELAY_BLOCKS_BOTTOM;
        int top = 60_000;
        if (ephemeralLow - size > bottom) {
            top = ephemeralLow - size;
        } else if (65_535 - LISTEN_BLOCK_SIZE - size > ephemeralHigh + 1) {
            bottom = ephemeralHigh + 1;
            top = 65_535 - LISTEN_BLOCK_SIZE - size;
        }
        int low = bottom + (ThreadLocalRandom.current().nextInt(top - bottom) & ~1);
        return new PortRange(low, low + size - 1);
    }

    /** turnutils_uclient's running totals (the last line is the final count): messages sent, received. */
    static final java.util.regex.Pattern UCLIENT_TOTALS = java.util.regex.Pattern.compile(
            "tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)\\s*$", java.util.regex.Pattern.MULTILINE);
    /** turnutils_uclient's count of messages that did not come back. */
    static final java.util.regex.Pattern UCLIENT_LOST = java.util.regex.Pattern.compile("Total lost packets (\\d+)");

    public record Result(int exitCode, String output) {}

    /** Arguments from several parts, in order. */
    static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }

    /** Runs a command to completion within {@code timeoutSeconds}; stdout and stderr merged. */
    public static Result run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("interop", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s:\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    static List<String> javaCommand(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-jar");
        command.add(System.getProperty("turnpike.jar", "target/turnpike.jar"));
        command.addAll(List.of(args));
        return command;
    }
}
