package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The packaged jar as an operator runs it: exit codes, one-line errors, signals, log formats. */
class CommandLineIT {
    private static Interop.Result java(String... args) throws Exception {
        return Interop.run(30, Interop.javaCommand(args).toArray(String[]::new));
    }

    @Test
    void aBadListenAddressIsOneLineNamingTheFlagAndExitCode2() throws Exception {
        Interop.Result result = java("--listen", "localhost:3478");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.output().strip().lines()).hasSize(1);
        assertThat(result.output()).contains("--listen").contains("expected");
    }

    @Test
    void anUnknownFlagIsOneLineAndExitCode2() throws Exception {
        Interop.Result result = java("--no-such-flag");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.output().strip().lines()).containsExactly("turnpike: Unknown option: '--no-such-flag'");
    }

    @Test
    void badRelayFlagsAreOneLineEachWithExitCode2() throws Exception {
        String[][] cases = {
            {"--relay-ports", "80-90"},
            {"--relay-ports", "60000-50000"},
            {"--relay-ports", "lots"},
            {"--allow-peer", "10.0.0.0/40"},
            {"--deny-peer", "example.com/8"},
            {"--relay-address", "192.0.2.250"},
            {"--max-lifetime", "10"},
            {"--user", "nocolon"},
            {"--metrics-listen", "localhost:9641"},
            {"--user-quota", "-1"},
            {"--client-quota", "-5"},
            {"--max-allocations", "-1"},
            {"--max-permissions", "-1"},
            {"--max-channels", "-1"},
            {"--max-bps", "-1"},
            {"--max-bps", "100000000000"},
            {"--total-bps", "-1"},
            {"--challenge-rate", "-1"},
            {"--challenge-burst", "0"},
            {"--max-queued-bytes", "1000"},
            {"--software", ""},
            {"--workers", "0"},
            {"--workers", "many"},
            {"--workers", "1025"},
            {"--https-backend", "127.0.0.1:8080"},
            {"--listen-dtls", "127.0.0.1:5349"},
            {"--https-backend-h2", "127.0.0.1:8081"},
            {"--https-backend-idle-timeout", "0"},
        };
        for (String[] flag : cases) {
            Interop.Result result = java("--listen", "127.0.0.1:0", flag[0], flag[1]);
            assertThat(result.exitCode()).as(String.join(" ", flag)).isEqualTo(2);
            assertThat(result.output().strip().lines()).as(result.output()).hasSize(1);
            assertThat(result.output()).contains(flag[0]).contains("expected");
        }
    }

    @Test
    void moreWorkersThanRelayPortsIsOneLineAndExitCode2() throws Exception {
        Interop.Result result = java("--listen", "127.0.0.1:0", "--relay-ports", "40000-40003", "--workers", "8");
        assertThat(result.exitCode()).as(result.output()).isEqualTo(2);
        assertThat(result.output().strip().lines()).as(result.output()).hasSize(1);
        assertThat(result.output()).contains("--workers 8", "--relay-ports 40000-40003", "one relay port per worker");
    }

    @Test
    void aRelayPortRangeThatNeedsMoreDescriptorsThanTheLimitIsOneLineAndExitCode2() throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("bash", "-c", "ulimit -n 300 && exec \"$0\" \"$@\""));
        command.addAll(Interop.javaCommand("--listen", "127.0.0.1:0", "--relay-ports", "40000-40999"));
        Interop.Result result = Interop.run(30, command.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.output()).isEqualTo(2);
        assertThat(result.output().strip().lines()).as(result.output()).hasSize(1);
        assertThat(result.output())
                .contains("--relay-ports 40000-40999", "file descriptors", "the limit is 300", "expected");
    }

    @Test
    void withDefaultsALowOpenFilesLimitLowersMaxAllocationsSaysSoOnceAndTheRelayServes() throws Exception {
        // a container's limit (Docker 25+: 1,024 soft; some runtimes the hard limit too), no relay flags at all
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startWithOpenFilesLimit(
                        1024, "--listen", "127.0.0.1:" + port, "--realm", "example.org", "--user", "alice:wonderland");
                dev.turnpike.daemon.client.TurnClient alice = new dev.turnpike.daemon.client.TurnClient(
                        new java.net.InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org")) {
            assertThat(alice.allocate()).isNotNull();
            alice.tearDown();
            String log = daemon.output();
            assertThat(log.lines().filter(l -> l.contains("open-files limit")))
                    .as(log)
                    .singleElement()
                    .asString()
                    .contains("WARN", "the open-files limit (1024)", "--max-allocations lowered from 10000 to");
            java.util.regex.Matcher lowered = java.util.regex.Pattern.compile("lowered from 10000 to (\\d+)")
                    .matcher(log);
            assertThat(lowered.find()).isTrue();
            int allocations = Integer.parseInt(lowered.group(1));
            assertThat(allocations).isBetween(100, 480); // (1024 - what the relay needs besides) / 2
            assertThat(log).contains("allocations=" + allocations);
            assertThat(daemon.terminate()).isZero();
        }
    }

    @Test
    void aMetricsPortInUseIsOneLineAndExitCode1() throws Exception {
        try (java.net.ServerSocket taken =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Interop.Result result =
                    java("--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:" + taken.getLocalPort());
            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.output()
                            .strip()
                            .lines()
                            .filter(l -> l.startsWith("turnpike:"))
                            .toList())
                    .singleElement()
                    .asString()
                    .contains("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void aPasswordNeverAppearsInTheLog() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start(
                "--listen",
                "127.0.0.1:" + port,
                "--log-level",
                "trace",
                "--user",
                "alice:sup3r-secret-pw",
                "--auth-secret",
                "an0ther-secret")) {
            daemon.terminate();
            assertThat(daemon.output())
                    .doesNotContain("sup3r-secret-pw")
                    .doesNotContain("an0ther-secret")
                    .contains("users=1");
        }
        Interop.Result bad = java("--listen", "127.0.0.1:0", "--user", "alice:bad\u0007pw".translateEscapes());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.output()).doesNotContain("bad");
    }

    @Test
    void theLauncherRunsOnJdk25WhateverJavaIsFirstOnThePath() throws Exception {
        ProcessBuilder launcher = new ProcessBuilder("sh", "../turnpike", "--version").redirectErrorStream(true);
        launcher.environment().remove("JAVA_HOME");
        launcher.environment().put("PATH", "/usr/bin:/bin"); // Debian's java there is 17
        Process process = launcher.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("turnpike ", "Java 25");
    }

    @Test
    void versionAndHelpExitZero() throws Exception {
        assertThat(java("--version").output()).startsWith("turnpike ");
        Interop.Result help = java("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.output()).contains("--listen", "--log-format", "TURNPIKE_");
    }

    @Test
    void sigtermStopsTheDaemonWithExitCode0() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start("--listen", "127.0.0.1:" + port)) {
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).contains("stopped");
        }
    }

    @Test
    void jsonLogsAreOneObjectALineWithStructuredFields() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start("--listen", "127.0.0.1:" + port, "--log-format", "json")) {
            daemon.terminate();
            List<String> lines = daemon.output().strip().lines().toList();
            assertThat(lines)
                    .isNotEmpty()
                    .allSatisfy(
                            line -> assertThat(line)
                                    .matches(
                                            "\\{\"time\":\"[^\"]+Z\",\"level\":\"[A-Z]+\",\"logger\":\"[^\"]+\",\"thread\":\"[^\"]+\",\"message\":\".*\\}"));
            assertThat(lines)
                    .anySatisfy(line -> assertThat(line)
                            .contains("\"message\":\"listening\"", "\"listen\":\"127.0.0.1:" + port + "\""));
        }
    }

    /** The jar run with {@code variables} (NAME=value) added to its environment. */
    private static Interop.Result javaWith(List<String> variables, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("env"));
        command.addAll(variables);
        command.addAll(Interop.javaCommand(args));
        return Interop.run(30, command.toArray(String[]::new));
    }

    @Test
    void aBadValueNamesTheVariableOrTheFileKeyItCameFromAndAnUnknownVariableIsRefused() throws Exception {
        Interop.Result fromEnvironment = javaWith(List.of("TURNPIKE_MAX_LIFETIME=5"), "--listen", "127.0.0.1:0");
        assertThat(fromEnvironment.exitCode()).isEqualTo(2);
        assertThat(fromEnvironment.output().strip().lines())
                .containsExactly("turnpike: TURNPIKE_MAX_LIFETIME=5 (expected: 600..86400 seconds)");

        Interop.Result converted = javaWith(List.of("TURNPIKE_LISTEN=bad"));
        assertThat(converted.exitCode()).isEqualTo(2);
        assertThat(converted.output()).startsWith("turnpike: TURNPIKE_LISTEN=bad (expected");

        Path config = Files.createTempFile("turnpike", ".properties");
        try {
            Files.writeString(config, "max-lifetime = 5\n");
            Interop.Result fromFile = java("--config", config.toString(), "--listen", "127.0.0.1:0");
            assertThat(fromFile.exitCode()).isEqualTo(2);
            assertThat(fromFile.output().strip().lines())
                    .containsExactly(
                            "turnpike: --config " + config + ": max-lifetime = 5 (expected: 600..86400 seconds)");
        } finally {
            Files.deleteIfExists(config);
        }

        Interop.Result unknown = javaWith(List.of("TURNPIKE_MAX_LIFETIMES=600"), "--listen", "127.0.0.1:0");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.output()).contains("TURNPIKE_MAX_LIFETIMES: unknown variable");
    }

    @Test
    void theEnvironmentAndAConfigFileStandInForFlags() throws Exception {
        int filePort = Interop.testPort("127.0.0.1");
        Path config = Files.createTempFile("turnpike", ".properties");
        try {
            Files.writeString(config, "listen = 127.0.0.1:" + filePort + "\nlog-format = json\n");
            try (DaemonProcess daemon = DaemonProcess.start("--config", config.toString())) {
                daemon.terminate();
                assertThat(daemon.output()).contains("\"listen\":\"127.0.0.1:" + filePort + "\"");
            }
            Files.writeString(config, "listen = 127.0.0.1:1\nno-such-option = 1\n");
            Interop.Result bad = java("--config", config.toString());
            assertThat(bad.exitCode()).isEqualTo(2);
            assertThat(bad.output()).contains("unknown key 'no-such-option'");
        } finally {
            Files.deleteIfExists(config);
        }
    }
}
