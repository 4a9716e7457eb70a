package dev.turnpike.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A child process that lives for one test, its output (stdout and stderr) in a file; killed on close. */
final class Background implements AutoCloseable {
    private final Process process;
    private final Path output;

    private Background(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static Background start(String... command) throws IOException {
        return start(java.util.Map.of(), command);
    }

    /** With {@code environment} added to this process's. */
    static Background start(java.util.Map<String, String> environment, String... command) throws IOException {
        Path output = Files.createTempFile("background", ".log");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().putAll(environment);
        return new Background(builder.start(), output);
    }

    Process process() {
        return process;
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() throws IOException {
        return Files.readString(output, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(output);
    }
}
