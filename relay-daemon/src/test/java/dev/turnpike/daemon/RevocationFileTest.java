package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.core.Revocations;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The revocations kept in --state-dir: written whole, read back after a restart, a bad line named. */
class RevocationFileTest {
    @TempDir
    Path dir;

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    @Test
    void whatWasRevokedIsReadBackByTheNextProcess() throws IOException {
        RevocationFile file = RevocationFile.open(dir);
        file.revoke("alice", Revocations.FOREVER);
        file.revoke("1800000000:carol:customer-42", now() + 3600);
        file.revoke("dave", now() + 3600);
        assertThat(file.lift("dave")).isTrue();
        assertThat(file.lift("dave")).isFalse();

        RevocationFile next = RevocationFile.open(dir);
        assertThat(next.inForce(now()))
                .containsEntry("alice", Revocations.FOREVER)
                .containsKey("1800000000:carol:customer-42")
                .doesNotContainKey("dave")
                .hasSize(2);
        assertThat(next.persistent()).isTrue();
        assertThat(Files.exists(dir.resolve(RevocationFile.NAME + ".tmp")))
                .as("renamed into place")
                .isFalse();
    }

    @Test
    void aRevocationOverIsNeitherInForceNorKept() throws IOException {
        RevocationFile file = RevocationFile.open(dir);
        file.revoke("bob", now() - 1);
        file.revoke("alice", Revocations.FOREVER);
        assertThat(file.inForce(now())).containsOnlyKeys("alice");
        assertThat(Files.readString(dir.resolve(RevocationFile.NAME))).doesNotContain("bob");
    }

    @Test
    void aLineThatCannotBeReadIsNamedAndNothingStarts() throws IOException {
        Files.writeString(
                dir.resolve(RevocationFile.NAME), "# comment\nalice\tforever\nbob\tsoon\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> RevocationFile.open(dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("line 3")
                .hasMessageContaining("bob\tsoon");
        Files.writeString(dir.resolve(RevocationFile.NAME), "\tforever\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> RevocationFile.open(dir)).hasMessageContaining("line 1");
        Files.writeString(dir.resolve(RevocationFile.NAME), "", StandardCharsets.UTF_8);
        assertThat(RevocationFile.open(dir).inForce(now())).as("empty").isEmpty();
    }

    @Test
    void aNameTheFileCouldNotHoldWholeIsRefusedBeforeIt() {
        assertThat(Revocations.checkName("odd\tname")).as("the separator").isNotNull();
        assertThat(Revocations.checkName("a\nb")).as("a line break").isNotNull();
        assertThat(Revocations.checkName("")).isNotNull();
        assertThat(Revocations.checkName("x".repeat(514))).isNotNull();
        assertThat(Revocations.checkName("x".repeat(513))).isNull();
        assertThat(Revocations.checkName("1800000000:carol:customer 42")).isNull();
    }

    @Test
    void withoutAStateDirectoryTheListLivesInMemory() throws IOException {
        RevocationFile file = RevocationFile.open(null);
        file.revoke("alice", Revocations.FOREVER);
        assertThat(file.inForce(now())).containsOnlyKeys("alice");
        assertThat(file.persistent()).isFalse();
        assertThat(file.where()).contains("memory");
    }
}
