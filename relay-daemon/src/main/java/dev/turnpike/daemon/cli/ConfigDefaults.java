package dev.turnpike.daemon.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The alternatives to flags: an environment variable {@code TURNPIKE_RELAY_PORTS} for {@code --relay-ports},
 * else the key {@code relay-ports} in the config file ({@code --config FILE} or {@code TURNPIKE_CONFIG}). A
 * flag on the command line wins over both; the environment wins over the file. Repeatable options take a
 * comma-separated list, and in the file they may also be given on several lines, which add up (as coturn's
 * {@code user=} lines do); a single-valued key given twice is an error naming both lines, never last-wins.
 */
public final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> environment;
    private final Properties file = new Properties();
    private String path;

    private ConfigDefaults(Map<String, String> environment) {
        this.environment = environment;
    }

    /**
     * Reads the config file named by {@code --config} in {@code args} or by the environment. Throws a
     * ParameterException (exit 2) for a missing file or a key that names no option.
     */
    public static ConfigDefaults load(CommandLine commandLine, String[] args, Map<String, String> environment) {
        ConfigDefaults defaults = new ConfigDefaults(environment);
        String path = environment.get("TURNPIKE_CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            }
        }
        defaults.path = path;
        Set<String> everyKey = new HashSet<>();
        everyKey.add("config");
        collectKeys(commandLine, everyKey);
        for (String name : environment.keySet()) {
            if (name.startsWith("TURNPIKE_")
                    && everyKey.stream().noneMatch(key -> environmentName(key).equals(name))) {
                throw new CommandLine.ParameterException(
                        commandLine,
                        name + ": unknown variable (expected TURNPIKE_ and an option name, e.g. TURNPIKE_LISTEN)");
            }
        }
        if (path != null) {
            Map<String, OptionSpec> known = new HashMap<>();
            for (OptionSpec option : commandLine.getCommandSpec().options()) {
                known.put(key(option), option);
            }
            List<ConfigLine> lines;
            try {
                lines = ConfigLine.read(Path.of(path));
            } catch (IOException e) {
                throw new CommandLine.ParameterException(
                        commandLine,
                        "--config: cannot read '" + path + "' (" + e.getClass().getSimpleName() + ")");
            }
            Map<String, Integer> firstLine = new HashMap<>();
            for (ConfigLine line : lines) {
                OptionSpec option = known.get(line.key());
                if (option == null || line.key().equals("config")) {
                    throw new CommandLine.ParameterException(
                            commandLine,
                            "--config " + path + ":" + line.number() + ": unknown key '" + line.key()
                                    + "' (expected an option name without '--', e.g. listen)");
                }
                Integer earlier = firstLine.putIfAbsent(line.key(), line.number());
                String value = line.value().strip();
                if (earlier == null) {
                    defaults.file.setProperty(line.key(), value);
                } else if (option.isMultiValue()) {
                    defaults.file.setProperty(line.key(), defaults.file.getProperty(line.key()) + "," + value);
                } else {
                    throw new CommandLine.ParameterException(
                            commandLine,
                            "--config " + path + ": key '" + line.key() + "' given twice, on lines " + earlier
                                    + " and " + line.number() + " (expected: once; only repeatable options such as"
                                    + " user add up)");
                }
            }
        }
        return defaults;
    }

    private static void collectKeys(CommandLine commandLine, Set<String> keys) {
        for (OptionSpec option : commandLine.getCommandSpec().options()) {
            keys.add(key(option));
        }
        for (CommandLine sub : commandLine.getSubcommands().values()) {
            collectKeys(sub, keys);
        }
    }

    /**
     * An error message that starts with an option ("--max-lifetime 5 (expected: ...)", or picocli's "Invalid
     * value for option '--listen'"), told in terms of where the value came from when it was not the command line:
     * "TURNPIKE_MAX_LIFETIME=5 (expected: ...)", "--config FILE: max-lifetime = 5 (expected: ...)".
     */
    public String sourced(String message, CommandLine.ParseResult parsed) {
        if (message == null) {
            return null;
        }
        java.util.regex.Matcher flag =
                java.util.regex.Pattern.compile("^(--[a-z0-9-]+) ?").matcher(message);
        java.util.regex.Matcher picocli = java.util.regex.Pattern.compile("^Invalid value for option '(--[a-z0-9-]+)'")
                .matcher(message);
        String option = flag.find() ? flag.group(1) : picocli.find() ? picocli.group(1) : null;
        if (option == null || (parsed != null && parsed.hasMatchedOption(option))) {
            return message;
        }
        String key = option.substring(2);
        String variable = environmentName(key);
        String where;
        String value;
        if (environment.containsKey(variable)) {
            where = variable + "=";
            value = environment.get(variable);
        } else if (file.getProperty(key) != null) {
            where = "--config " + path + ": " + key + " = ";
            value = file.getProperty(key).strip();
        } else {
            return message;
        }
        int expected = message.indexOf("(expected");
        String tail = expected >= 0 ? message.substring(expected) : "(" + message + ")";
        return where + value + " " + tail;
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec option) || argSpec.command() == null) {
            return null;
        }
        String key = key(option);
        String fromEnvironment = environment.get(environmentName(key));
        if (fromEnvironment != null) {
            return fromEnvironment;
        }
        String fromFile = file.getProperty(key);
        return fromFile == null ? null : fromFile.strip();
    }

    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    static String environmentName(String key) {
        return "TURNPIKE_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
