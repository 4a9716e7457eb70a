package dev.turnpike.daemon;

import dev.turnpike.daemon.cli.HelpLayout;
import dev.turnpike.daemon.cli.ManPageSections;
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
        java.io.StringWriter generated = new java.io.StringWriter();
        try (PrintWriter page = new PrintWriter(generated)) {
            ManPageGenerator.writeSingleManPage(page, documented.getCommandSpec());
        }
        // the subcommands' options and the sections picocli does not write go in before the page's end
        String end = "// end::picocli-generated-full-manpage[]";
        String adoc = generated.toString();
        int at = adoc.lastIndexOf(end);
        if (at < 0) {
            throw new IllegalStateException("picocli's man page has no '" + end + "' any more");
        }
        adoc = adoc.substring(0, at)
                + ManPageSections.subcommandOptions(turnpike.getSubcommands())
                + ManPageSections.SECTIONS
                + adoc.substring(at);
        Files.writeString(out.resolve("turnpike.adoc"), adoc, StandardCharsets.UTF_8);
        Files.writeString(
                out.resolve("turnpike.bash"), AutoComplete.bash("turnpike", turnpike), StandardCharsets.UTF_8);
    }
}
