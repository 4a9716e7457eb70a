package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped systemd unit passes {@code systemd-analyze verify} without a warning, and is hardened. */
class SystemdUnitTest {
    private static final Path UNIT = Path.of("..", "packaging", "systemd", "turnpike.service");

    @TempDir
    Path dir;

    @Test
    void theUnitVerifiesCleanlyAndIsHardenedAndSpeaksSdNotify() throws Exception {
        Path analyze = Interop.tool("systemd-analyze", "systemd");
        String unit = Files.readString(UNIT, StandardCharsets.UTF_8);
        assertThat(unit)
                .contains(
                        "DynamicUser=yes",
                        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                        "NoNewPrivileges=yes",
                        "ProtectSystem=strict",
                        "PrivateTmp=yes",
                        "LimitNOFILE=",
                        "Restart=on-failure",
                        "LoadCredential=",
                        "Type=notify",
                        "WatchdogSec=",
                        "ExecReload=/bin/kill -HUP $MAINPID");
        // verify checks that ExecStart's program exists: put a program of this machine where the launcher goes
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path installed = dir.resolve("turnpike.service");
        assertThat(unit).contains("ExecStart=/opt/turnpike/bin/turnpike ");
        Files.writeString(installed, unit.replace("/opt/turnpike/bin/turnpike", java), StandardCharsets.UTF_8);
        Interop.Result verified = Interop.run(60, analyze.toString(), "verify", installed.toString());
        assertThat(verified.exitCode()).as(verified.output()).isZero();
        assertThat(verified.output().strip()).as("no warning").isEmpty();
    }
}
