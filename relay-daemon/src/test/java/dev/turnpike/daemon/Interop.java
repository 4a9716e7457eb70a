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
final class Interop {
    private Interop() {}

    static Path tool(String name, String debianPackage) {
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

    /** A UDP port that was free a moment ago on {@code address}. */
    static int freeUdpPort(String address) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(address))) {
            return socket.getLocalPort();
        }
    }

    /** A {@code --relay-ports} range: {@code low-high}. */
    record PortRange(int low, int high) {
        String flag() {
            return low + "-" + high;
        }
    }

    /**
     * A random block of {@code size} relay ports outside the kernel's ephemeral range where there is room (below
     * it, else above it), so that the sockets every other process opens with port 0 never land in it; other
     * tests' blocks most likely not either. A machine whose ephemeral range covers everything gets a block
     * anywhere above 20000: the relay then tries other ports if one is taken.
     */
    static PortRange relayPorts(int size) throws IOException {
        String[] ephemeral = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                .get(0)
                .trim()
                .split("\\s+");
        int ephemeralLow = Integer.parseInt(ephemeral[0]);
        int ephemeralHigh = Integer.parseInt(ephemeral[1]);
        int bottom = 20_000;
        int top = 60_000;
        if (ephemeralLow - size > bottom) {
            top = ephemeralLow - size;
        } else if (65_535 - size > ephemeralHigh + 1) {
            bottom = ephemeralHigh + 1;
            top = 65_535 - size;
        }
        int low = bottom + (ThreadLocalRandom.current().nextInt(top - bottom) & ~1);
        return new PortRange(low, low + size - 1);
    }

    record Result(int exitCode, String output) {}

    /** Runs a command to completion within {@code timeoutSeconds}; stdout and stderr merged. */
    static Result run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
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
