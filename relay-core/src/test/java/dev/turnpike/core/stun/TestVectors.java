package dev.turnpike.core.stun;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/** Reads the hex vector files: a {@code [name]} line, then hex bytes, '#' starting a comment line. */
final class TestVectors {
    private TestVectors() {}

    static Map<String, byte[]> load(String resource) {
        String text;
        try (InputStream in = TestVectors.class.getResourceAsStream("/vectors/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource /vectors/" + resource);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, byte[]> vectors = new HashMap<>();
        String name = null;
        StringBuilder hex = new StringBuilder();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.startsWith("#") || line.isEmpty()) {
                continue;
            }
            if (line.startsWith("[")) {
                if (name != null) {
                    vectors.put(name, HexFormat.of().parseHex(hex));
                }
                name = line.substring(1, line.indexOf(']'));
                hex.setLength(0);
            } else {
                hex.append(line.replace(" ", ""));
            }
        }
        if (name != null) {
            vectors.put(name, HexFormat.of().parseHex(hex));
        }
        return vectors;
    }
}
