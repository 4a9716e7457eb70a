package dev.turnpike.daemon.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code turnpike import-coturn /etc/turnserver.conf}: prints the equivalent Turnpike config file ({@code
 * --config}), and a comment line for each coturn option it cannot map, and why. Exit 0, or 2 for a file it cannot
 * read.
 */
@Command(
        name = "import-coturn",
        mixinStandardHelpOptions = true,
        description = "Print the Turnpike configuration equivalent to a coturn turnserver.conf, and what does not map.")
public final class ImportCoturnCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "coturn's configuration, e.g. /etc/turnserver.conf.")
    Path file;

    @Override
    public Integer call() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StartupException(file + ": cannot read it (" + e.getMessage() + ")", 2);
        }
        CoturnImport.Result imported = CoturnImport.read(text);
        PrintWriter out = spec.commandLine().getOut();
        out.print(imported.text(file.toString()));
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        err.println("turnpike import-coturn: " + imported.config().size() + " setting(s) mapped, "
                + imported.notMapped().size() + " option(s) not mapped (listed as comments)");
        err.flush();
        return 0;
    }
}
