package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkout's {@code ./turnpike} in a copy of the checkout's layout, with a stand-in {@code ./mvnw} that
 * records that it built and writes a stand-in launcher: it builds when there is no build, when a source is newer
 * than the build (after a git pull), and not otherwise.
 */
class CheckoutLauncherTest {
    @TempDir
    Path checkout;

    private Path launcher;
    private Path builds;

    @BeforeEach
    void layOutACheckout() throws IOException {
        Files.copy(Path.of("../turnpike"), checkout.resolve("turnpike"));
        executable(checkout.resolve("turnpike"));
        for (String dir : new String[] {"relay-core/src/main", "relay-daemon/src/main", "packaging"}) {
            Files.createDirectories(checkout.resolve(dir));
        }
        for (String pom : new String[] {"pom.xml", "relay-core/pom.xml", "relay-daemon/pom.xml"}) {
            Files.writeString(checkout.resolve(pom), "<project/>\n");
        }
        Files.writeString(checkout.resolve("relay-daemon/src/main/Relay.java"), "class Relay {}\n");
        launcher = checkout.resolve("relay-daemon/target/turnpike/bin/turnpike");
        builds = checkout.resolve("builds");
        Files.writeString(
                checkout.resolve("mvnw"),
                "#!/bin/sh\necho built >> '" + builds + "'\nmkdir -p '" + launcher.getParent() + "'\n"
                        + "printf '#!/bin/sh\\necho ran \"$@\"\\n' > '" + launcher + "'\nchmod 755 '" + launcher
                        + "'\n");
        executable(checkout.resolve("mvnw"));
        // everything in the checkout an hour old, as after a clone
        age(checkout.resolve("relay-daemon/src/main/Relay.java"), 3600);
        for (String pom : new String[] {"pom.xml", "relay-core/pom.xml", "relay-daemon/pom.xml"}) {
            age(checkout.resolve(pom), 3600);
        }
    }

    private Interop.Result run() throws Exception {
        return Interop.run(30, checkout.resolve("turnpike").toString(), "--version");
    }

    private long buildCount() throws IOException {
        return Files.exists(builds) ? Files.readAllLines(builds).size() : 0;
    }

    @Test
    void itBuildsWhenThereIsNoBuildAndRunsTheBuildWithTheArguments() throws Exception {
        Interop.Result first = run();
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).contains("no build yet", "ran --version");
        assertThat(buildCount()).isEqualTo(1);
    }

    @Test
    void itRunsTheBuildAsItIsWhenNothingIsNewer() throws Exception {
        run();
        Interop.Result second = run();
        assertThat(second.output()).contains("ran --version").doesNotContain("building");
        assertThat(buildCount()).isEqualTo(1);
    }

    @Test
    void aSourceNewerThanTheBuildBuildsAgainAndSaysWhich() throws Exception {
        run();
        age(launcher, 60); // the build a minute old, then a pull brings a newer source
        Files.writeString(checkout.resolve("relay-daemon/src/main/Relay.java"), "class Relay { int changed; }\n");
        Interop.Result afterPull = run();
        assertThat(afterPull.output())
                .contains("relay-daemon/src/main/Relay.java is newer than the last build", "ran --version");
        assertThat(buildCount()).isEqualTo(2);
    }

    private static void executable(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void age(Path file, long seconds) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(seconds)));
    }
}
