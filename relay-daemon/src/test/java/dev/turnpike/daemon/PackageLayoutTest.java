package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The daemon's rooms stay rooms: its packages (the loop, streams, command line, HTTP, logging, system shims) and
 * the classes in each depend on one another without a cycle, read from the sources as a newcomer would.
 */
class PackageLayoutTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/turnpike/daemon");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
    private static final Pattern IMPORT =
            Pattern.compile("(?m)^import (dev\\.turnpike\\.daemon[\\w.]*?)\\.([A-Z]\\w*)[\\w.]*;");

    private record Source(String pkg, String name, String code) {}

    private static List<Source> sources() throws IOException {
        List<Source> all = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String text = Files.readString(file);
                Matcher pkg = PACKAGE.matcher(text);
                assertThat(pkg.find()).as(file.toString()).isTrue();
                String name = file.getFileName().toString().replace(".java", "");
                all.add(new Source(pkg.group(1), name, code(text)));
            }
        }
        return all;
    }

    /** The text without comments and string literals: what the compiler reads, not what the prose mentions. */
    private static String code(String text) {
        return text.replaceAll("(?s)/\\*.*?\\*/", "")
                .replaceAll("//[^\\n]*", "")
                .replaceAll("\"(?:\\\\.|[^\"\\\\\\n])*\"", "\"\"");
    }

    @Test
    void theDaemonsPackagesDependOnEachOtherWithoutACycle() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (Source s : sources()) {
            Matcher m = IMPORT.matcher(s.code());
            while (m.find()) {
                if (!m.group(1).equals(s.pkg())) {
                    uses.computeIfAbsent(s.pkg(), k -> new TreeSet<>()).add(m.group(1));
                }
            }
        }
        assertThat(uses)
                .as("the rooms are there")
                .containsKeys(
                        "dev.turnpike.daemon",
                        "dev.turnpike.daemon.cli",
                        "dev.turnpike.daemon.http",
                        "dev.turnpike.daemon.loop",
                        "dev.turnpike.daemon.stream");
        for (String from : uses.keySet()) {
            assertThat(reaches(uses, from, from, new TreeSet<>()))
                    .as("a cycle through %s: %s", from, uses)
                    .isFalse();
        }
    }

    @Test
    void noTwoClassesOfAPackageUseEachOther() throws IOException {
        List<Source> all = sources();
        List<String> cycles = new ArrayList<>();
        for (Source a : all) {
            for (Source b : all) {
                if (a.pkg().equals(b.pkg())
                        && a.name().compareTo(b.name()) < 0
                        && mentions(a, b.name())
                        && mentions(b, a.name())) {
                    cycles.add(a.name() + " <-> " + b.name());
                }
            }
        }
        assertThat(cycles).isEmpty();
    }

    private static boolean mentions(Source s, String name) {
        return Pattern.compile("(?<![\\w.])" + name + "\\b").matcher(s.code()).find();
    }

    private static boolean reaches(Map<String, Set<String>> uses, String from, String to, Set<String> seen) {
        for (String next : uses.getOrDefault(from, Set.of())) {
            if (next.equals(to) || (seen.add(next) && reaches(uses, next, to, seen))) {
                return true;
            }
        }
        return false;
    }

    static {
        if (!Files.isDirectory(SOURCES)) {
            throw new UncheckedIOException(new IOException("run from relay-daemon: no " + SOURCES.toAbsolutePath()));
        }
    }
}
