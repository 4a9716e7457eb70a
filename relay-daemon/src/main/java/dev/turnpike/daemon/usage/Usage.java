package dev.turnpike.daemon.usage;

/**
 * What a tag or a name used: allocations made, the seconds they lived, and packets and bytes relayed both ways
 * (payloads, as the allocation lines count them).
 */
public record Usage(long allocations, long allocationSeconds, long packets, long bytes) {
    public static final Usage NONE = new Usage(0, 0, 0, 0);
    /** The tag row of allocations whose credentials carry no tag. */
    public static final String UNTAGGED = "(none)";

    /** The tag row {@code username} counts in: its credential's tag, or {@link #UNTAGGED}. */
    static String tagOf(String username) {
        String tag = dev.turnpike.core.Usernames.tag(username);
        return tag == null ? UNTAGGED : tag;
    }

    public Usage plus(Usage other) {
        return new Usage(
                allocations + other.allocations,
                allocationSeconds + other.allocationSeconds,
                packets + other.packets,
                bytes + other.bytes);
    }
}
