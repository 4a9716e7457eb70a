package dev.turnpike.daemon.http;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.daemon.log.JsonText;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import java.util.List;

/** The admin view's JSON: an array of one object per allocation (no library for a dozen fields); or a table. */
final class AllocationsJson {
    private AllocationsJson() {}

    static String render(List<AllocationSummary> allocations) {
        StringBuilder b = new StringBuilder(64 + 320 * allocations.size()).append('[');
        for (int i = 0; i < allocations.size(); i++) {
            AllocationSummary a = allocations.get(i);
            b.append(i == 0 ? "\n" : ",\n")
                    .append("{\"id\":")
                    .append(a.id())
                    .append(",\"user\":")
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

    /**
     * The same as a table for a person ({@code turnpike admin list}): one line an allocation, its id first; bytes in
     * kilobytes and megabytes.
     */
    static String table(List<AllocationSummary> allocations) {
        String format = "%-12s %-24s %-24s %-24s %8s %8s %5s %5s %10s %10s%n";
        StringBuilder b = new StringBuilder(String.format(
                format, "ID", "USER", "CLIENT", "RELAYED", "AGE", "LEFT", "PERMS", "CHANS", "TO PEERS", "TO CLIENT"));
        for (AllocationSummary a : allocations) {
            InetSocketAddress relayed = a.relayedIpv4() != null ? a.relayedIpv4() : a.relayedIpv6();
            b.append(String.format(
                    format,
                    a.id(),
                    a.user().length() > 24 ? a.user().substring(0, 23) + "~" : a.user(),
                    Addresses.format(a.client()),
                    relayed == null ? "-" : Addresses.format(relayed),
                    a.ageSeconds() + "s",
                    a.lifetimeLeftSeconds() + "s",
                    a.permissions(),
                    a.channels(),
                    bytes(a.bytesToPeers()),
                    bytes(a.bytesToClient())));
        }
        return b.append(allocations.size()).append(" allocation(s)\n").toString();
    }

    /** A byte count for a person: B, kB or MB, whole numbers (the admin table, the status page). */
    static String bytes(long count) {
        return count < 10_000 ? count + " B" : count < 10_000_000 ? count / 1000 + " kB" : count / 1_000_000 + " MB";
    }

    private static String address(InetSocketAddress address) {
        return address == null ? "null" : string(Addresses.format(address));
    }

    /** A JSON string literal ({@link JsonText}). */
    static String string(String value) {
        StringBuilder b = new StringBuilder(value.length() + 2);
        JsonText.string(b, value);
        return b.toString();
    }
}
