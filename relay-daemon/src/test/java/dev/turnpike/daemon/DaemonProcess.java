package dev.turnpike.daemon;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** The packaged daemon ({@code java -jar turnpike.jar}) as a child process, its output in a file. */
final class DaemonProcess implements AutoCloseable {
    private final Background process;

    private DaemonProcess(Background process) {
        this.process = process;
    }

    /** Starts the daemon and waits (at most 20 s) until it logs that it started. */
    static DaemonProcess start(String... args) throws IOException, InterruptedException {
        DaemonProcess daemon =
                new DaemonProcess(Background.start(Interop.javaCommand(args).toArray(String[]::new)));
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

    /** Sends SIGTERM and answers the exit code (fails if it takes more than 10 s). */
    int terminate() throws InterruptedException {
        Process p = process.process();
        p.destroy(); // SIGTERM on Linux
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("turnpike did not stop within 10 s of SIGTERM");
        }
        return p.exitValue();
    }

    @Override
    public void close() throws IOException {
        process.close();
    }
}
