package dev.turnpike.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.Turnpike;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** --help in groups, each option with its environment variable and config key; none left out. */
class HelpLayoutTest {
    @Test
    void everyVisibleOptionIsInExactlyOneGroup() {
        CommandLine.Model.CommandSpec spec = new CommandLine(new Turnpike()).getCommandSpec();
        List<String> grouped = new ArrayList<>();
        HelpLayout.GROUPS.values().forEach(grouped::addAll);
        List<String> visible = spec.options().stream()
                .filter(o -> !o.hidden())
                .map(CommandLine.Model.OptionSpec::longestName)
                .toList();
        assertThat(grouped).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(visible);
    }

    @Test
    void helpShowsTheGroupsAndWhereElseEachOptionMayComeFrom() {
        StringWriter out = new StringWriter();
        int code = Turnpike.run(new String[] {"--help"}, new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(code).isZero();
        String help = out.toString().replaceAll("\\s+", " "); // as read, not as wrapped
        assertThat(help)
                .contains("Usage: turnpike [OPTIONS] [COMMAND]")
                .contains("Listening: ", "Relaying: ", "Authentication:", "Peers:", "Limits:", "Lifecycle:")
                .contains("Observability:", "General:")
                .contains("Environment: TURNPIKE_MAX_LIFETIME; config file: max-lifetime.")
                .contains("600 to 86400 seconds")
                .doesNotContain("--benchmark");
        assertThat(help.indexOf("Listening:")).isLessThan(help.indexOf("--listen="));
        assertThat(help.indexOf("Limits:")).isLessThan(help.indexOf("--user-quota="));
        assertThat(help.indexOf("--user-quota=")).isLessThan(help.indexOf("Lifecycle:"));
    }
}
