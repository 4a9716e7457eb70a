package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docs/coturn.md names only flags Turnpike has, so the table cannot point an operator at one that is gone. */
class CoturnTableTest {
    @Test
    void everyTurnpikeFlagTheCoturnTableNamesExists() throws IOException {
        String table = Files.readString(Path.of("../docs/coturn.md"));
        Set<String> flags = new HashSet<>();
        CommandLine turnpike = new CommandLine(new Turnpike());
        turnpike.getCommandSpec().options().forEach(o -> flags.addAll(java.util.List.of(o.names())));
        Matcher named = Pattern.compile("`(--[a-z0-9-]+)").matcher(table);
        int count = 0;
        while (named.find()) {
            assertThat(flags).as("docs/coturn.md names " + named.group(1)).contains(named.group(1));
            count++;
        }
        assertThat(count).as("flags the table names").isGreaterThan(30);
    }
}
