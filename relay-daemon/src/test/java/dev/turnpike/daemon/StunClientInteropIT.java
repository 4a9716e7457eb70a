package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** coturn's turnutils_stunclient against the packaged daemon. */
class StunClientInteropIT {
    private static final Pattern REFLEXIVE = Pattern.compile("UDP reflexive addr: (\\S+):(\\d+)");

    @Test
    void stunclientLearnsItsIpv4AddressFromTurnpike() throws Exception {
        assertMappedAddress("127.0.0.1", "127.0.0.1:%d", "127.0.0.1");
    }

    @Test
    void stunclientLearnsItsIpv6AddressFromTurnpike() throws Exception {
        assertMappedAddress("::1", "[::1]:%d", "::1");
    }

    private void assertMappedAddress(String ip, String listenFormat, String expectedIp) throws Exception {
        Path stunclient = Interop.tool("turnutils_stunclient", "coturn");
        int port = Interop.testPort(ip);
        try (DaemonProcess daemon = DaemonProcess.start("--listen", listenFormat.formatted(port))) {
            Interop.Result result = Interop.run(30, stunclient.toString(), "-p", String.valueOf(port), ip);
            Matcher matcher = REFLEXIVE.matcher(result.output());
            assertThat(matcher.find()).as(result.output()).isTrue();
            assertThat(matcher.group(1)).isEqualTo(expectedIp);
            int mappedPort = Integer.parseInt(matcher.group(2));
            // The client's ephemeral port: never the server's own, never a privileged or zero port.
            assertThat(mappedPort).isBetween(1024, 65535).isNotEqualTo(port);
            assertThat(daemon.terminate()).isZero();
        }
    }
}
