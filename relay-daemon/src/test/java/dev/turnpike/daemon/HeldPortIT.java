package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

/**
 * Two relays on one port: with --workers 2 the listeners join an SO_REUSEPORT group, which any other socket of the
 * same user with that option could join too, splitting the clients between them. The second one must refuse.
 */
class HeldPortIT {
    private static Interop.Result second(String... args) throws Exception {
        return Interop.run(30, Interop.javaCommand(args).toArray(String[]::new));
    }

    @Test
    void aSecondTurnpikeWithTwoWorkersOnTheSamePortRefusesToStartAndTheFirstKeepsEveryClient() throws Exception {
        try (DaemonProcess first = DaemonProcess.startRelay(0, "--workers", "2")) {
            InetSocketAddress held = first.listener("udp");
            Interop.Result second = second(
                    "--listen",
                    Addresses.format(held),
                    "--relay-ports",
                    Interop.relayPorts(50).flag(),
                    "--realm",
                    "example.org",
                    "--user",
                    "bob:builder",
                    "--workers",
                    "2");
            assertThat(second.exitCode()).as(second.output()).isNotZero();
            assertThat(second.output())
                    .contains(Addresses.format(held) + " (udp) is held by another socket")
                    .doesNotContain("turnpike started");
            assertThat(first.alive()).isTrue();
            assertThat(first.terminate()).isZero();
        }
    }

    @Test
    void anySocketHoldingThePortWithSoReusePortIsRefusedForUdpAndTcp() throws Exception {
        try (DatagramChannel udp = DatagramChannel.open()
                        .setOption(StandardSocketOptions.SO_REUSEPORT, true)
                        .bind(new InetSocketAddress("127.0.0.1", 0));
                ServerSocketChannel tcp = ServerSocketChannel.open()
                        .setOption(StandardSocketOptions.SO_REUSEPORT, true)
                        .bind(new InetSocketAddress("127.0.0.1", 0))) {
            String udpAddress = Addresses.format((InetSocketAddress) udp.getLocalAddress());
            String tcpAddress = Addresses.format((InetSocketAddress) tcp.getLocalAddress());
            String[] common = {"--relay-ports", Interop.relayPorts(50).flag(), "--user", "a:b", "--workers", "2"};
            Interop.Result onUdp = second(Interop.concat(new String[] {"--listen", udpAddress}, common));
            assertThat(onUdp.exitCode()).as(onUdp.output()).isNotZero();
            assertThat(onUdp.output()).contains(udpAddress + " (udp) is held by another socket");

            Interop.Result onTcp = second(
                    Interop.concat(new String[] {"--listen", "127.0.0.1:0", "--listen-tcp", tcpAddress}, common));
            assertThat(onTcp.exitCode()).as(onTcp.output()).isNotZero();
            assertThat(onTcp.output()).contains(tcpAddress + " (tcp) is held by another socket");
        }
    }
}
