package dev.turnpike.daemon;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The packaged daemon ({@code java -jar turnpike.jar}) as a child process, its output in a file. */
final class DaemonProcess implements AutoCloseable {
    private final Process process;
    private final Path output;

    private DaemonProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Starts the daemon and waits (at most 20 s) until it logs that it started. */
    static DaemonProcess start(String... args) throws IOException, InterruptedException {
        Path output = Files.createTempFile("turnpike", ".log");
        Process process = new ProcessBuilder(Interop.javaCommand(args))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        DaemonProcess daemon = new DaemonProcess(process, output);
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
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    long pid() {
        return process.pid();
    }

    /** Sends SIGTERM and answers the exit code (fails if it takes more than 10 s). */
    int terminate() throws InterruptedException {
        process.destroy(); // SIGTERM on Linux
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("turnpike did not stop within 10 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            try {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Files.deleteIfExists(output);
    }
}
