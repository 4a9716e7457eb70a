package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** relay-core decides; it never does I/O, starts threads or reads a clock. */
class SansIoBoundaryTest {
    private static final List<String> FORBIDDEN = List.of(
            "java.nio.channels",
            "java.net.DatagramSocket",
            "java.net.Socket",
            "new Thread",
            "Thread.sleep",
            "System.nanoTime",
            "System.currentTimeMillis",
            "Instant.now",
            "Clock.system",
            "java.util.concurrent");

    @Test
    void theCoreImportsNoSocketsThreadsOrClocks() throws IOException {
        Path sources = Path.of("src/main/java");
        assertThat(sources).isDirectory();
        try (Stream<Path> files = Files.walk(sources)) {
            List<Path> java = files.filter(p -> p.toString().endsWith(".java")).toList();
            assertThat(java).isNotEmpty();
            for (Path file : java) {
                String text = Files.readString(file);
                for (String forbidden : FORBIDDEN) {
                    assertThat(text).as(file + " uses " + forbidden).doesNotContain(forbidden);
                }
            }
        }
    }
}
