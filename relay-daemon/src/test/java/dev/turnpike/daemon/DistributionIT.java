package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.cli.HelpLayout;
import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code ./mvnw package} ships: {@code target/turnpike} (a jlink runtime and {@code bin/turnpike}) runs with
 * no Java on the PATH, and the .deb holds the launcher, the unit, the example config, the man page and the
 * completion, each of which works where it lands.
 */
class DistributionIT {
    private static final Path DIST = Path.of("target", "turnpike");

    @TempDir
    Path dir;

    /** Runs {@code command} with an environment of {@code env} alone: no JAVA_HOME, no java on the PATH. */
    private static Process clean(Map<String, String> env, Path output, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.redirectOutput(output.toFile());
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin"); // Debian's java there, if any, is 17
        builder.environment().putAll(env);
        return builder.start();
    }

    private Interop.Result runClean(Map<String, String> env, String... command) throws Exception {
        Path output = Files.createTempFile(dir, "out", ".log");
        Process process = clean(env, output, command);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Interop.Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

    /** Starts {@code launcher} as a relay with {@code args}, checks it answers a Binding, and stops it (exit 0). */
    private void relayAnswers(Path launcher, Map<String, String> env, String... args) throws Exception {
        relayAnswers(launcher, env, client -> {}, args);
    }

    interface ClientCheck {
        void check(TurnClient client) throws Exception;
    }

    /** As above, and {@code then} checks more with a client once the relay answers. */
    private void relayAnswers(Path launcher, Map<String, String> env, ClientCheck then, String... args)
            throws Exception {
        int port = Interop.testPort("127.0.0.1");
        String[] command = Stream.concat(
                        Stream.of(launcher.toString(), "--listen", "127.0.0.1:" + port, "--drain-timeout", "0"),
                        Stream.of(args))
                .toArray(String[]::new);
        Path output = Files.createTempFile(dir, "relay", ".log");
        Process relay = clean(env, output, command);
        try (TurnClient client = new TurnClient(new InetSocketAddress("127.0.0.1", port), "a", "b", null)) {
            InetSocketAddress mapped = null;
            for (int attempt = 0; attempt < 100 && mapped == null && relay.isAlive(); attempt++) {
                try {
                    mapped = client.binding(200); // until the relay listens: the answer is what we wait on
                } catch (java.net.SocketTimeoutException notYet) {
                    mapped = null;
                }
            }
            assertThat(mapped).as(Files.readString(output)).isEqualTo(client.localAddress());
            then.check(client);
        } finally {
            relay.destroy();
            assertThat(relay.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(relay.exitValue()).as(Files.readString(output)).isZero();
    }

    @Test
    void theDistributionRunsOnItsOwnRuntimeWithNoJavaOnThePath() throws Exception {
        Path launcher = DIST.resolve("bin/turnpike").toAbsolutePath();
        assertThat(launcher).isExecutable();
        Interop.Result version = runClean(Map.of(), launcher.toString(), "--version");
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output()).contains("turnpike ", "Java 25");
        relayAnswers(launcher, Map.of());
    }

    @Test
    void theManPageAndTheCompletionCoverEveryGroupAndOption() throws Exception {
        String page = Files.readString(DIST.resolve("share/man/man1/turnpike.1"), StandardCharsets.UTF_8);
        assertThat(page).contains(".TH \"TURNPIKE\" \"1\"");
        for (var group : HelpLayout.GROUPS.entrySet()) {
            assertThat(page).contains(group.getKey().toUpperCase(java.util.Locale.ROOT));
            for (String option : group.getValue()) {
                // a switch that is on by default is written --[no-]name, for both of its spellings
                String negatable = "--[no-]" + option.substring(2);
                assertThat(page).as(option).containsAnyOf(option.replace("-", "\\-"), negatable.replace("-", "\\-"));
            }
        }
        assertThat(page).contains("TURNPIKE_MAX_LIFETIME", "credentials", "probe");
        assertThat(page)
                .as("the sections an operator looks for, and the subcommands' options")
                .contains("SIGNALS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "COMMAND OPTIONS")
                .contains("SIGHUP", "/etc/turnpike/turnpike.properties", "CREDENTIALS_DIRECTORY")
                .contains("\\-\\-secret\\-file", "\\-\\-ttl", "\\-\\-tls\\-insecure", "\\-\\-timeout\\-ms");

        Path completion =
                DIST.resolve("share/bash-completion/completions/turnpike").toAbsolutePath();
        Interop.Result bash = runClean(
                Map.of(),
                "bash",
                "-c",
                ". '" + completion + "' && complete -p turnpike && COMP_WORDS=(turnpike --drain) COMP_CWORD=1 "
                        + "&& _complete_turnpike 2>/dev/null; echo \"${COMPREPLY[@]}\"");
        assertThat(bash.exitCode()).as(bash.output()).isZero();
        assertThat(bash.output()).contains("-F _complete_turnpike", "--drain-timeout");
        Interop.Result modes = runClean(
                Map.of(),
                "bash",
                "-c",
                ". '" + completion + "' && COMP_WORDS=(turnpike --suspend '') COMP_CWORD=2 "
                        + "&& _complete_turnpike 2>/dev/null; echo \"${COMPREPLY[@]}\"");
        assertThat(modes.output().strip())
                .as("--suspend's values as they are written")
                .isEqualTo("flow loop");
    }

    @Test
    void theDebHoldsALauncherThatRunsAUnitThatVerifiesAndAConfigThatStarts() throws Exception {
        Path dpkgDeb = Interop.tool("dpkg-deb", "dpkg");
        Path deb;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            deb = files.filter(p -> p.getFileName().toString().endsWith(".deb"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no .deb in target: is dpkg-deb on the PATH?"));
        }
        Interop.Result info = Interop.run(60, dpkgDeb.toString(), "--info", deb.toString());
        assertThat(info.output())
                .contains("Package: turnpike", "conffiles", "postinst")
                .doesNotContain("Depends: java", "Depends: default-jre");
        Interop.Result contents = Interop.run(60, dpkgDeb.toString(), "--contents", deb.toString());
        assertThat(contents.output())
                .contains(
                        "./opt/turnpike/bin/turnpike",
                        "./opt/turnpike/lib/turnpike.jar",
                        "./opt/turnpike/runtime/bin/java",
                        "./usr/bin/turnpike -> /opt/turnpike/bin/turnpike",
                        "./lib/systemd/system/turnpike.service",
                        "./etc/turnpike/turnpike.properties",
                        "./usr/share/man/man1/turnpike.1.gz",
                        "./usr/share/bash-completion/completions/turnpike");

        Path root = dir.resolve("root");
        Interop.Result extracted = Interop.run(60, dpkgDeb.toString(), "-x", deb.toString(), root.toString());
        assertThat(extracted.exitCode()).as(extracted.output()).isZero();
        Path launcher = root.resolve("opt/turnpike/bin/turnpike");

        // the unit as installed, pointing at where this test unpacked the launcher
        Path analyze = Interop.tool("systemd-analyze", "systemd");
        String unit = Files.readString(root.resolve("lib/systemd/system/turnpike.service"), StandardCharsets.UTF_8);
        assertThat(unit).contains("ExecStart=/opt/turnpike/bin/turnpike --config /etc/turnpike/turnpike.properties");
        Path unitFile = dir.resolve("turnpike.service");
        Files.writeString(unitFile, unit.replace("/opt/turnpike/bin/turnpike", launcher.toString()));
        Interop.Result verified = Interop.run(60, analyze.toString(), "verify", unitFile.toString());
        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output().strip()).isEmpty();

        // the example config starts the relay as systemd would run it: the secret as a credential
        Path credentials = Files.createDirectories(dir.resolve("credentials"));
        Files.writeString(credentials.resolve("turn-secret"), "0123456789abcdef\n");
        relayAnswers(
                launcher,
                Map.of("CREDENTIALS_DIRECTORY", credentials.toString()),
                "--config",
                root.resolve("etc/turnpike/turnpike.properties").toString(),
                "--metrics-listen",
                "127.0.0.1:0");
        assertThat(Files.readString(root.resolve("etc/turnpike/turnpike.properties")))
                .contains("auth-secret-file = turn-secret");

        // its fixed users as the example says to turn them on: users-file = users, a credential of the unit's
        assertThat(unit).contains("LoadCredential=users:/etc/turnpike/users");
        Path control = dir.resolve("control");
        Interop.Result controlFiles = Interop.run(60, dpkgDeb.toString(), "-e", deb.toString(), control.toString());
        assertThat(controlFiles.exitCode()).as(controlFiles.output()).isZero();
        assertThat(Files.readString(control.resolve("postinst")))
                .as("the package makes the file the unit loads, or the unit could not start")
                .contains("if [ ! -e /etc/turnpike/users ]");
        String example = Files.readString(root.resolve("etc/turnpike/turnpike.properties"));
        assertThat(example).contains("# users-file = users\n");
        Path withUsers = dir.resolve("with-users.properties");
        Files.writeString(withUsers, example.replace("# users-file = users\n", "users-file = users\n"));
        Files.writeString(credentials.resolve("users"), "# NAME:PASSWORD\nalice:wonderland\n");
        relayAnswers(
                launcher,
                Map.of("CREDENTIALS_DIRECTORY", credentials.toString()),
                client -> {
                    try (TurnClient alice = new TurnClient(client.server(), "alice", "wonderland", "example.org")) {
                        assertThat(alice.allocate(600))
                                .as("alice, from the users credential")
                                .isNotNull();
                        alice.tearDown();
                    }
                },
                "--config",
                withUsers.toString(),
                "--metrics-listen",
                "127.0.0.1:0");
    }
}
