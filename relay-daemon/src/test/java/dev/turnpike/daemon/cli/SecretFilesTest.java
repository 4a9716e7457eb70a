package dev.turnpike.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretFilesTest {
    @TempDir
    Path dir;

    @Test
    void aRelativeNameIsLookedUpInSystemdsCredentialsDirectory() throws Exception {
        Files.writeString(dir.resolve("turn-secret"), "# rotated monthly\nnew-secret\n\nold-secret\n");
        Map<String, String> environment = Map.of("CREDENTIALS_DIRECTORY", dir.toString());
        assertThat(SecretFiles.read("--auth-secret-file", "turn-secret", environment))
                .containsExactly("new-secret", "old-secret");
        assertThat(SecretFiles.resolve("/run/secrets/turn", environment)).isEqualTo(Path.of("/run/secrets/turn"));
        assertThat(SecretFiles.resolve("turn-secret", Map.of())).isEqualTo(Path.of("turn-secret"));
    }

    @Test
    void aMissingOrEmptyFileIsOneLineNamingTheFlagAndNeverTheContent() throws Exception {
        assertThatThrownBy(() -> SecretFiles.read(
                        "--auth-secret-file", dir.resolve("none").toString(), Map.of()))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("--auth-secret-file ")
                .hasMessageContaining("cannot read");
        Files.writeString(dir.resolve("blank"), "# nothing yet\n\n");
        assertThatThrownBy(() -> SecretFiles.read(
                        "--auth-secret-file", dir.resolve("blank").toString(), Map.of()))
                .hasMessageContaining("no secret in it");
    }
}
