package dev.turnpike.daemon.loop;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/** What a transport of clients hands the loop: messages framed from a client on a listener, and clients gone. */
public interface ClientInput {
    /**
     * A framed STUN or ChannelData message from {@code client} on {@code listener}: {@code length} bytes at {@code
     * offset}, arrived with TOS byte / Traffic Class {@code trafficClass} (0 when not known).
     */
    void message(int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, int trafficClass);

    /** {@code client}'s connection on {@code listener} has closed; its allocation ends with it. */
    void closed(int listener, InetSocketAddress client);
}
