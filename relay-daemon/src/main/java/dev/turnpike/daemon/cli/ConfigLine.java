package dev.turnpike.daemon.cli;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * One {@code key = value} entry of the config file with the line it starts on, so that a repeated key can be
 * told by its lines. The syntax is {@link Properties}' ({@code =}, {@code :} or a space between key and value,
 * {@code #} and {@code !} comments, a trailing backslash continues the line, escapes), read one logical line at a
 * time by {@link Properties} itself so that nothing an operator writes today reads differently.
 */
record ConfigLine(int number, String key, String value) {
    static List<ConfigLine> read(Path file) throws IOException {
        List<String> physical = Files.readAllLines(file);
        List<ConfigLine> entries = new ArrayList<>();
        for (int i = 0; i < physical.size(); i++) {
            int start = i;
            StringBuilder logical = new StringBuilder(physical.get(i));
            while (continues(physical.get(i)) && i + 1 < physical.size()) {
                logical.append('\n').append(physical.get(++i));
            }
            Properties one = new Properties();
            one.load(new StringReader(logical.toString()));
            for (String key : one.stringPropertyNames()) {
                entries.add(new ConfigLine(start + 1, key, one.getProperty(key)));
            }
        }
        return entries;
    }

    /** A line ending in an odd number of backslashes goes on to the next (Properties' rule). */
    private static boolean continues(String line) {
        String content = line.stripLeading();
        if (content.startsWith("#") || content.startsWith("!")) {
            return false;
        }
        int backslashes = 0;
        for (int i = line.length() - 1; i >= 0 && line.charAt(i) == '\\'; i--) {
            backslashes++;
        }
        return (backslashes & 1) == 1;
    }
}
