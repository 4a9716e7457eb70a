package dev.turnpike.daemon.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How {@code --help} and the man page present the options: in groups an operator looks for (listening, relaying,
 * authentication, peers, limits, lifecycle, observability), each option with the environment variable and the
 * config-file key that set it too. It is a copy of the command's options made for reading: parsing uses the
 * command as declared, so grouping them cannot change what a command line means.
 */
public final class HelpLayout {
    /** Every visible option of {@code turnpike}, by group, in the order they are shown. A test keeps it complete. */
    public static final Map<String, List<String>> GROUPS = groups();

    private HelpLayout() {}

    private static Map<String, List<String>> groups() {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        groups.put(
                "Listening",
                List.of(
                        "--listen",
                        "--listen-tcp",
                        "--listen-tls",
                        "--listen-dtls",
                        "--tls-cert",
                        "--tls-key",
                        "--https-backend",
                        "--https-backend-proxy-protocol",
                        "--https-backend-h2",
                        "--https-backend-idle-timeout",
                        "--proxy-protocol",
                        "--proxy-protocol-from",
                        "--receive-buffer",
                        "--send-buffer"));
        groups.put(
                "Relaying",
                List.of(
                        "--relay-ports",
                        "--relay-address",
                        "--public-address",
                        "--max-lifetime",
                        "--rfc5766-channel-numbers",
                        "--tcp-relay",
                        "--max-queued-bytes",
                        "--suspend",
                        "--dscp-preserve",
                        "--workers",
                        "--software"));
        groups.put(
                "Authentication",
                List.of(
                        "--realm",
                        "--user",
                        "--users-file",
                        "--auth-secret",
                        "--auth-secret-file",
                        "--nonce-lifetime"));
        groups.put("Peers", List.of("--allow-peer", "--deny-peer"));
        groups.put(
                "Limits",
                List.of(
                        "--max-allocations",
                        "--user-quota",
                        "--client-quota",
                        "--max-permissions",
                        "--max-channels",
                        "--max-bps",
                        "--total-bps",
                        "--challenge-rate",
                        "--challenge-burst",
                        "--max-connections",
                        "--connections-per-ip",
                        "--first-message-timeout",
                        "--max-connection-queued-bytes",
                        "--tls-handshake-rate"));
        groups.put(
                "Lifecycle", List.of("--drain-timeout", "--alternate-server", "--ready-while-draining", "--state-dir"));
        groups.put(
                "Observability",
                List.of("--metrics-listen", "--admin-token-file", "--usage-top", "--log-level", "--log-format"));
        groups.put("General", List.of("--config", "--help", "--version"));
        return groups;
    }

    /**
     * A copy of {@code spec} for reading: its options in {@link #GROUPS}, each description ending with where else
     * the option may come from. Not for parsing.
     */
    public static CommandSpec documented(CommandSpec spec) {
        CommandSpec documented = CommandSpec.create().name(spec.name());
        documented.usageMessage(spec.usageMessage());
        documented.defaultValueProvider(spec.defaultValueProvider());
        documented.version(spec.version());
        for (Map.Entry<String, List<String>> group : GROUPS.entrySet()) {
            ArgGroupSpec.Builder builder = ArgGroupSpec.builder()
                    .heading("%n" + group.getKey() + ":%n")
                    .exclusive(false)
                    .validate(false);
            for (String name : group.getValue()) {
                OptionSpec option = spec.findOption(name);
                if (option == null) {
                    throw new IllegalStateException("HelpLayout.GROUPS names " + name + ", which is no option");
                }
                builder.addArg(OptionSpec.builder(option)
                        .description(withSources(option))
                        .build());
            }
            documented.addArgGroup(builder.build());
        }
        return documented;
    }

    /** The option's description, and then its environment variable and config-file key. */
    private static String[] withSources(OptionSpec option) {
        String name = option.longestName();
        if (option.usageHelp() || option.versionHelp()) {
            return option.description();
        }
        String key = name.substring(2);
        String[] lines = java.util.Arrays.copyOf(option.description(), option.description().length + 1);
        lines[lines.length - 1] = key.equals("config")
                ? "Environment: " + ConfigDefaults.environmentName(key) + "."
                : "Environment: " + ConfigDefaults.environmentName(key) + "; config file: " + key + ".";
        return lines;
    }

    /** Shows {@code commandLine}'s options in groups in its --help. */
    public static void install(CommandLine commandLine) {
        Map<String, CommandLine.IHelpSectionRenderer> sections = commandLine.getHelpSectionMap();
        sections.put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST_HEADING, help -> "");
        sections.put(
                CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST,
                help -> new CommandLine.Help(documented(commandLine.getCommandSpec()), help.colorScheme())
                        .optionListGroupSections());
    }
}
