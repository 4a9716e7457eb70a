package dev.turnpike.daemon.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Secrets read from files, so that they show in neither {@code ps} nor the environment: one secret a line,
 * {@code #} for comments. A relative name is looked up in systemd's credentials directory when the service has
 * one ({@code LoadCredential=}, {@code $CREDENTIALS_DIRECTORY}), else in the working directory; Docker secrets
 * are files under {@code /run/secrets/} and are named by their path.
 */
public final class SecretFiles {
    private SecretFiles() {}

    public static Path resolve(String name, Map<String, String> environment) {
        Path path = Path.of(name);
        String credentials = environment.get("CREDENTIALS_DIRECTORY");
        return !path.isAbsolute() && credentials != null ? Path.of(credentials).resolve(path) : path;
    }

    /** The secrets in {@code name}; one line naming the flag (never the content) when it cannot be read. */
    public static List<String> read(String flag, String name, Map<String, String> environment) {
        Path path = resolve(name, environment);
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StartupException(
                    flag + " " + path + ": cannot read it (" + e.getClass().getSimpleName() + ")", 2);
        }
        List<String> secrets = new ArrayList<>();
        for (String line : lines) {
            String secret = line.strip();
            if (!secret.isEmpty() && !secret.startsWith("#")) {
                secrets.add(secret);
            }
        }
        if (secrets.isEmpty()) {
            throw new StartupException(flag + " " + path + ": no secret in it (expected: one secret a line)", 2);
        }
        return secrets;
    }
}
