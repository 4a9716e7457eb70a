package dev.turnpike.daemon.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The running build's version, as the build wrote it into the jar ({@code turnpike-version.properties}). */
public final class BuildInfo {
    public static final String VERSION = read();

    private BuildInfo() {}

    private static String read() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/turnpike-version.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
