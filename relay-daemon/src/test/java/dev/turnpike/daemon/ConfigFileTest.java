package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.daemon.cli.RelayOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config file as an operator coming from coturn writes it: repeated keys, continuations, comments. */
class ConfigFileTest {
    @TempDir
    Path dir;

    private RelayOptions parse(String text) throws IOException {
        Path file = dir.resolve("turnpike.properties");
        Files.writeString(file, text);
        return Turnpike.parse(new String[] {"--config", file.toString()}, Map.of())
                .options();
    }

    @Test
    void aRepeatableKeyOnSeveralLinesAddsUpAsRepeatedFlagsDo() throws IOException {
        RelayOptions options = parse("""
                realm = example.org
                user = alice:wonderland
                # a second user, as coturn's user= lines are written
                user = bob:builder
                user = carol:c4rol,dave:d4ve
                """);
        assertThat(options.users).containsExactly("alice:wonderland", "bob:builder", "carol:c4rol", "dave:d4ve");
    }

    @Test
    void aSingleValuedKeyGivenTwiceIsAnErrorNamingBothLines() {
        assertThatThrownBy(() -> parse("""
                        realm = example.org
                        user = alice:wonderland

                        realm = example.com
                        """))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key 'realm' given twice, on lines 1 and 4");
    }

    @Test
    void anUnknownKeyNamesItsLine() {
        assertThatThrownBy(() -> parse("realm = example.org\nno-such-option = 1\n"))
                .hasMessageContaining(":2: unknown key 'no-such-option'");
    }

    @Test
    void aContinuedLineAndEveryPropertiesSeparatorStillRead() throws IOException {
        RelayOptions options = parse("""
                ! comment
                realm: example.org
                user alice:wonderland,\\
                    bob:builder
                max-lifetime=600
                """);
        assertThat(options.realm).isEqualTo("example.org");
        assertThat(options.users).containsExactly("alice:wonderland", "bob:builder");
        assertThat(options.maxLifetime).isEqualTo(600);
    }

    @Test
    void anEmptyFileIsAllDefaults() throws IOException {
        assertThat(parse("").users).isEmpty();
    }
}
