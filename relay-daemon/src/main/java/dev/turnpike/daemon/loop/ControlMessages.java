package dev.turnpike.daemon.loop;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Control messages (struct cmsghdr, as recvmmsg's slots and a TCP socket's IP_PKTOPTIONS hold them), read in place. */
final class ControlMessages {
    // <netinet/in.h>: the levels and types of the messages that carry the byte
    static final int SOL_IP = 0;
    static final int IP_TOS = 1;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_TCLASS = 67;

    private ControlMessages() {}

    /**
     * The TOS byte ({@code IP_TOS}, one byte) or Traffic Class ({@code IPV6_TCLASS}, an int) in the control
     * messages at {@code base} of {@code control}, {@code length} bytes of them; -1 when there is none, or the
     * messages do not hold together. Allocates nothing: recvmmsg's slots and a TCP connection's options both.
     */
    static int trafficClass(MemorySegment control, long base, long length) {
        // struct cmsghdr: cmsg_len (size_t), cmsg_level, cmsg_type (int), then the data, each aligned to 8
        for (long at = 0; at + 17 <= length; ) {
            long cmsgLength = control.get(ValueLayout.JAVA_LONG, base + at);
            if (cmsgLength < 17 || at + cmsgLength > length) {
                return -1;
            }
            int level = control.get(ValueLayout.JAVA_INT, base + at + 8);
            int type = control.get(ValueLayout.JAVA_INT, base + at + 12);
            if (level == SOL_IP && type == IP_TOS) {
                return control.get(ValueLayout.JAVA_BYTE, base + at + 16) & 0xFF;
            }
            if (level == IPPROTO_IPV6 && type == IPV6_TCLASS && cmsgLength >= 20) {
                return control.get(ValueLayout.JAVA_INT_UNALIGNED, base + at + 16) & 0xFF;
            }
            at += (cmsgLength + 7) & ~7L;
        }
        return -1;
    }
}
