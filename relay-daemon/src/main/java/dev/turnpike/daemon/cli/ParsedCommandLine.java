package dev.turnpike.daemon.cli;

import picocli.CommandLine;

/**
 * A command line parsed, its options, and where its values came from (for {@link ConfigDefaults#sourced}): what
 * a reload reads again.
 */
public record ParsedCommandLine(CommandLine commandLine, ConfigDefaults defaults, RelayOptions options) {
    /** An error message about a value, told in terms of the flag, variable or file key it came from. */
    public String sourced(String message) {
        return defaults.sourced(message, commandLine.getParseResult());
    }
}
