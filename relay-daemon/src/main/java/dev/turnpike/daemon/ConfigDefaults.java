package dev.turnpike.daemon;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
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
 * comma-separated list.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> environment;
    private final Properties file = new Properties();

    private ConfigDefaults(Map<String, String> environment) {
        this.environment = environment;
    }

    /**
     * Reads the config file named by {@code --config} in {@code args} or by the environment. Throws a
     * ParameterException (exit 2) for a missing file or a key that names no option.
     */
    static ConfigDefaults load(CommandLine commandLine, String[] args, Map<String, String> environment) {
        ConfigDefaults defaults = new ConfigDefaults(environment);
        String path = environment.get("TURNPIKE_CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            }
        }
        if (path != null) {
            try (Reader reader = Files.newBufferedReader(Path.of(path))) {
                defaults.file.load(reader);
            } catch (IOException e) {
                throw new CommandLine.ParameterException(
                        commandLine,
                        "--config: cannot read '" + path + "' (" + e.getClass().getSimpleName() + ")");
            }
            Set<String> known = new HashSet<>();
            for (OptionSpec option : commandLine.getCommandSpec().options()) {
                known.add(key(option));
            }
            for (String key : defaults.file.stringPropertyNames()) {
                if (!known.contains(key) || key.equals("config")) {
                    throw new CommandLine.ParameterException(
                            commandLine,
                            "--config " + path + ": unknown key '" + key
                                    + "' (expected an option name without '--', e.g. listen)");
                }
            }
        }
        return defaults;
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
