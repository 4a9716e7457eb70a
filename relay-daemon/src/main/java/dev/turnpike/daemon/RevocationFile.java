package dev.turnpike.daemon;

import dev.turnpike.core.Revocations;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operator's revocations, the daemon's own copy (each worker's core holds another): kept across reloads and
 * restarts in {@code --state-dir}/revocations, one {@code NAME<TAB>UNTIL} line each (UNTIL: epoch seconds, or
 * {@code forever}). A change is written whole to a temporary file, forced to disk, renamed over the old one and
 * the directory forced too, before any worker applies it: a crash leaves the old list or the new one, never half
 * of either, and never a revocation the relay applied but did not keep. Without {@code --state-dir} the list lives
 * as long as the process. Any thread.
 */
final class RevocationFile {
    static final String NAME = "revocations";
    private static final String HEADER =
            "# turnpike revocations, version 1: NAME<TAB>UNTIL (epoch seconds, or forever)";

    private final Path file;
    private final TreeMap<String, Long> untilEpochSeconds = new TreeMap<>();

    private RevocationFile(Path file) {
        this.file = file;
    }

    /**
     * The revocations kept in {@code stateDir} (created if need be), or an empty list held in memory only when
     * {@code stateDir} is null.
     *
     * @throws IOException naming the file and the line that cannot be read
     */
    static RevocationFile open(Path stateDir) throws IOException {
        if (stateDir == null) {
            return new RevocationFile(null);
        }
        Files.createDirectories(stateDir);
        RevocationFile revocations = new RevocationFile(stateDir.resolve(NAME));
        if (Files.exists(revocations.file)) {
            List<String> lines = Files.readAllLines(revocations.file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int tab = line.lastIndexOf('\t');
                String name = tab < 0 ? "" : line.substring(0, tab);
                long until;
                try {
                    until = tab < 0 ? -1 : parseUntil(line.substring(tab + 1));
                } catch (IllegalArgumentException e) {
                    until = -1;
                }
                if (until < 0 || Revocations.checkName(name) != null) {
                    throw new IOException(revocations.file + " line " + (i + 1) + ": '" + line
                            + "' (expected: NAME<TAB>UNTIL, UNTIL epoch seconds or forever)");
                }
                revocations.untilEpochSeconds.put(name, until);
            }
        }
        return revocations;
    }

    /** {@code forever}, or epoch seconds. */
    static long parseUntil(String text) {
        return text.equals("forever") ? Revocations.FOREVER : Long.parseLong(text);
    }

    /** Whether the list outlives the process. */
    boolean persistent() {
        return file != null;
    }

    /** Where the list is kept, for the start-up line; "memory" without --state-dir. */
    String where() {
        return file == null ? "memory (no --state-dir)" : file.toString();
    }

    /** Keeps {@code name} revoked until {@code untilEpochSeconds}, written to disk before this returns. */
    synchronized void revoke(String name, long untilEpochSeconds) throws IOException {
        TreeMap<String, Long> next = new TreeMap<>(this.untilEpochSeconds);
        next.put(name, untilEpochSeconds);
        write(next);
        this.untilEpochSeconds.put(name, untilEpochSeconds);
    }

    /** Lifts the revocation of {@code name}, on disk before this returns; whether there was one. */
    synchronized boolean lift(String name) throws IOException {
        if (!untilEpochSeconds.containsKey(name)) {
            return false;
        }
        TreeMap<String, Long> next = new TreeMap<>(untilEpochSeconds);
        next.remove(name);
        write(next);
        untilEpochSeconds.remove(name);
        return true;
    }

    /** The revocations still in force at {@code epochSeconds}, by name. */
    synchronized Map<String, Long> inForce(long epochSeconds) {
        TreeMap<String, Long> live = new TreeMap<>();
        untilEpochSeconds.forEach((name, until) -> {
            if (epochSeconds < until) {
                live.put(name, until);
            }
        });
        return live;
    }

    /** Writes {@code revocations} to a temporary file, forces it, renames it over the file, forces the directory. */
    private void write(Map<String, Long> revocations) throws IOException {
        if (file == null) {
            return;
        }
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        long now = System.currentTimeMillis() / 1000;
        revocations.forEach((name, until) -> {
            if (now < until) { // an expired one need not be kept
                text.append(name)
                        .append('\t')
                        .append(until == Revocations.FOREVER ? "forever" : Long.toString(until))
                        .append('\n');
            }
        });
        Path temporary = file.resolveSibling(NAME + ".tmp");
        try (FileChannel out = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel directory = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            directory.force(true); // the rename itself, on disk
        }
    }
}
