package dev.turnpike.daemon;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Run by the build, not by the relay: writes the man page's AsciiDoc (picocli-codegen's generator, over the
 * grouped options of {@link HelpLayout}; the build turns it into troff) and the bash/zsh completion script
 * (picocli's), both from the command as it is declared, so they cannot fall behind a new option.
 */
public final class Documentation {
    private Documentation() {}

    /** {@code args[0]}: the directory to write {@code turnpike.adoc} and {@code turnpike.bash} into. */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        CommandLine turnpike = new CommandLine(new Turnpike());
        CommandLine documented = new CommandLine(HelpLayout.documented(turnpike.getCommandSpec()));
        for (var sub : turnpike.getSubcommands().entrySet()) {
            documented.addSubcommand(sub.getKey(), sub.getValue().getCommand());
        }
        try (PrintWriter page =
                new PrintWriter(Files.newBufferedWriter(out.resolve("turnpike.adoc"), StandardCharsets.UTF_8))) {
            ManPageGenerator.writeSingleManPage(page, documented.getCommandSpec());
        }
        Files.writeString(
                out.resolve("turnpike.bash"), AutoComplete.bash("turnpike", turnpike), StandardCharsets.UTF_8);
    }
}
