package dev.turnpike.benchmarks.generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Datagrams the kernel dropped on given local UDP ports (the "drops" column of /proc/net/udp and udp6): if the
 * load generator's own sockets drop, the generator, not the relay, is the bottleneck.
 */
final class SocketDrops {
    private SocketDrops() {}

    static long onPorts(Set<Integer> ports) throws IOException {
        long drops = 0;
        for (String file : new String[] {"/proc/net/udp", "/proc/net/udp6"}) {
            Path path = Path.of(file);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] f = line.strip().split("\\s+");
                if (f.length < 13 || !f[1].contains(":") || f[0].equals("sl")) {
                    continue;
                }
                int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                if (ports.contains(port)) {
                    drops += Long.parseLong(f[f.length - 1]);
                }
            }
        }
        return drops;
    }
}
