package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** With --log-level debug, a protocol error answered to a client is one line saying who, what and why. */
class RefusalLogIT {
    @Test
    void aLegacyClientsChannelNumberIsRefusedWithALineNamingTheFlagThatWouldAcceptIt() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(port, "--log-level", "debug");
                TurnClient client = new TurnClient(
                        new InetSocketAddress("127.0.0.1", port), "alice", "wonderland", "example.org")) {
            client.allocate();
            int code = client.ask(
                            StunMethod.CHANNEL_BIND,
                            w -> w.addU32(StunAttribute.CHANNEL_NUMBER, 0x5000L << 16)
                                    .addXorAddress(
                                            StunAttribute.XOR_PEER_ADDRESS, new InetSocketAddress("8.8.8.8", 53)))
                    .errorCode();
            assertThat(code).isEqualTo(400);
            assertThat(daemon.terminate()).isZero();
            String refused = daemon.output()
                    .lines()
                    .filter(line -> line.contains("refused") && line.contains("ChannelBind"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no refusal logged in:\n" + outputOf(daemon)));
            assertThat(refused)
                    .contains("DEBUG", "client=" + Addresses.format(client.localAddress()), "code=400")
                    .contains("0x5000", "--rfc5766-channel-numbers");
            assertThat(daemon.output()).as("the first Allocate's 401, too").contains("code=401");
        }
    }

    private static String outputOf(DaemonProcess daemon) {
        try {
            return daemon.output();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
