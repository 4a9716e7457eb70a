package dev.turnpike.daemon.http;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import java.util.List;

/** The admin view's JSON: an array of one object per allocation (no library for a dozen fields). */
final class AllocationsJson {
    private AllocationsJson() {}

    static String render(List<AllocationSummary> allocations) {
        StringBuilder b = new StringBuilder(64 + 320 * allocations.size()).append('[');
        for (int i = 0; i < allocations.size(); i++) {
            AllocationSummary a = allocations.get(i);
            b.append(i == 0 ? "\n" : ",\n")
                    .append("{\"user\":")
                    .append(string(a.user()))
                    .append(",\"client\":")
                    .append(address(a.client()))
                    .append(",\"relayedIpv4\":")
                    .append(address(a.relayedIpv4()))
                    .append(",\"relayedIpv6\":")
                    .append(address(a.relayedIpv6()))
                    .append(",\"ageSeconds\":")
                    .append(a.ageSeconds())
                    .append(",\"lifetimeLeftSeconds\":")
                    .append(a.lifetimeLeftSeconds())
                    .append(",\"permissions\":")
                    .append(a.permissions())
                    .append(",\"channels\":")
                    .append(a.channels())
                    .append(",\"packetsToPeers\":")
                    .append(a.packetsToPeers())
                    .append(",\"bytesToPeers\":")
                    .append(a.bytesToPeers())
                    .append(",\"packetsToClient\":")
                    .append(a.packetsToClient())
                    .append(",\"bytesToClient\":")
                    .append(a.bytesToClient())
                    .append('}');
        }
        return b.append(allocations.isEmpty() ? "]\n" : "\n]\n").toString();
    }

    private static String address(InetSocketAddress address) {
        return address == null ? "null" : string(Addresses.format(address));
    }

    /** A JSON string: quotes, backslashes and control characters escaped (a username is the client's choice). */
    static String string(String value) {
        StringBuilder b = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
