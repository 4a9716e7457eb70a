package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code sh} block of the README, run as a reader would run it from the checkout, so that none of them can
 * drift: the ports are swapped for the tests' own (3478 may be another relay's on this machine, coturn's
 * package starts one), secrets' paths for temporary files, relay.example.org for a relay the test runs. A block
 * no test here recognises fails the suite: a new one needs its case.
 */
class ReadmeIT {
    private static final Path CHECKOUT = Path.of("..").toAbsolutePath().normalize();
    private static List<String> blocks;

    @TempDir
    Path dir;

    @BeforeAll
    static void readTheBlocks() throws IOException {
        blocks = new ArrayList<>();
        StringBuilder block = null;
        for (String line : Files.readAllLines(CHECKOUT.resolve("README.md"), StandardCharsets.UTF_8)) {
            if (block == null && line.equals("```sh")) {
                block = new StringBuilder();
            } else if (block != null && line.equals("```")) {
                blocks.add(block.toString());
                block = null;
            } else if (block != null) {
                block.append(line).append('\n');
            }
        }
    }

    private static String block(String containing) {
        List<String> found = blocks.stream().filter(b -> b.contains(containing)).toList();
        assertThat(found).as("README blocks with " + containing).hasSize(1);
        return found.get(0);
    }

    @Test
    void everyBlockHasItsCase() {
        String[] cases = {
            "./mvnw -B verify", "turnutils_uclient", "turnpike credentials", "probe turn:relay.example.org"
        };
        assertThat(blocks).hasSize(cases.length);
        for (String each : cases) {
            block(each);
        }
    }

    @Test
    void theQuickStartRunsTheRelayWithItsUser() throws Exception {
        String block = block("./mvnw -B verify");
        List<String> commands = commands(block);
        assertThat(commands)
                .containsExactly(
                        "./turnpike --listen 127.0.0.1:3478 --realm example.org --user alice:wonderland",
                        "./mvnw -B verify"); // the second is what runs this test
        int port = Interop.testPort("127.0.0.1");
        String relay = commands.get(0).replace(":3478", ":" + port) + " --relay-ports "
                + Interop.relayPorts(50).flag();
        try (Background running = Background.start(Map.of(), "sh", "-c", "cd '" + CHECKOUT + "' && exec " + relay);
                TurnClient alice =
                        new TurnClient(new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", null)) {
            LoopFixture.awaitTrue(
                    () -> {
                        try {
                            alice.binding(200);
                            return true;
                        } catch (IOException notYet) {
                            return false;
                        }
                    },
                    60_000,
                    "the quick start's relay answering:\n" + running.output());
            assertThat(alice.allocate())
                    .as("alice allocates, in the realm the relay named")
                    .isNotNull();
            alice.tearDown();
            running.process().destroy();
            assertThat(running.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(running.process().exitValue()).as(running.output()).isZero();
        }
    }

    @Test
    void theCoturnClientsBlockRelaysWithoutLossAndStopsWhatItStarted() throws Exception {
        Interop.tool("turnutils_uclient", "coturn");
        Interop.tool("turnutils_peer", "coturn");
        Interop.tool("turnutils_stunclient", "coturn");
        int port = Interop.testPort("127.0.0.1");
        int peerPort = Interop.testPort("127.0.0.1");
        String script = block("turnutils_uclient")
                .replace("127.0.0.1:3478", "127.0.0.1:" + port)
                .replace("-p 3480", "-p " + peerPort)
                .replace("-r 3480", "-r " + peerPort)
                .replace("50000-50999", Interop.relayPorts(1000).flag())
                .replace("turnutils_stunclient 127.0.0.1", "turnutils_stunclient -p " + port + " 127.0.0.1")
                .replace("-l 170 127.0.0.1", "-l 170 -p " + port + " 127.0.0.1");
        Interop.Result result = runInItsOwnGroup(script, 120);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("UDP reflexive addr: 127.0.0.1:", "Total lost packets 0 (0.000000%)");
    }

    @Test
    void theCredentialsBlockPrintsWhatItShows() throws Exception {
        String block = block("turnpike credentials");
        Path secret = dir.resolve("turn-secret");
        Files.writeString(secret, "0123456789abcdef\n");
        String command = commands(block).get(0).replace("/etc/turnpike/turn-secret", secret.toString());
        Interop.Result result = runInItsOwnGroup(command, 60);
        assertThat(result.exitCode()).as(result.output()).isZero();
        for (String shown : shownOutput(block)) {
            // the values change with the time and the secret; what precedes them must not
            String stable = shown.replaceAll("\\d{10}:alice.*", "").replaceAll("password: .*", "password: ");
            assertThat(result.output()).as(shown).contains(stable);
        }
    }

    @Test
    void theProbeBlockPassesEveryStepItShows() throws Exception {
        String block = block("probe turn:relay.example.org");
        try (DaemonProcess daemon = DaemonProcess.startRelay(0)) {
            String command = commands(block)
                    .get(0)
                    .replace(
                            "turn:relay.example.org:3478",
                            "turn:127.0.0.1:" + daemon.listener("udp").getPort());
            Interop.Result result = runInItsOwnGroup(command, 60);
            assertThat(result.exitCode()).as(result.output()).isZero();
            for (String shown : shownOutput(block)) {
                String step = shown.contains(":") ? shown.substring(0, shown.indexOf(':') + 1) : shown;
                assertThat(result.output()).as(shown).contains(step);
            }
            assertThat(daemon.terminate()).isZero();
        }
    }

    /** The block's commands: lines that are not comments, continuations joined, trailing comments cut. */
    private static List<String> commands(String block) {
        List<String> commands = new ArrayList<>();
        StringBuilder command = new StringBuilder();
        for (String line : block.split("\n")) {
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            int comment = text.indexOf("   #");
            if (comment >= 0) {
                text = text.substring(0, comment).strip();
            }
            if (text.endsWith("\\")) {
                command.append(text, 0, text.length() - 1).append(' ');
                continue;
            }
            commands.add(command.append(text).toString().replaceAll("\\s+", " "));
            command.setLength(0);
        }
        return commands;
    }

    /** The lines a block shows as output: its comment lines after the first command. */
    private static List<String> shownOutput(String block) {
        List<String> shown = new ArrayList<>();
        boolean afterCommand = false;
        for (String line : block.split("\n")) {
            if (!line.startsWith("#")) {
                afterCommand = afterCommand || !line.isBlank();
            } else if (afterCommand) {
                shown.add(line.substring(1).strip());
            }
        }
        assertThat(shown).as("output shown in:\n" + block).isNotEmpty();
        return shown;
    }

    /**
     * Runs {@code script} with bash from the checkout in a session of its own, and when it ends (or after
     * {@code timeoutSeconds}) stops whatever it left running in that session: only processes it started.
     */
    private static Interop.Result runInItsOwnGroup(String script, long timeoutSeconds) throws Exception {
        Path output = Files.createTempFile("readme", ".out");
        Process process = new ProcessBuilder("setsid", "bash", "-c", "set -e\n" + script)
                .directory(CHECKOUT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try {
            boolean ended = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            String text = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(ended)
                    .as("the block ended within " + timeoutSeconds + " s:\n" + text)
                    .isTrue();
            return new Interop.Result(process.exitValue(), text);
        } finally {
            // setsid made the shell the leader of its own group: its PID is the group's
            new ProcessBuilder("kill", "-TERM", "--", "-" + process.pid())
                    .redirectErrorStream(true)
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(output);
        }
    }
}
