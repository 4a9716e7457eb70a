package dev.turnpike.core;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * What the core decided about one input. The data plane fills the single forward slot (no allocation: the
 * bytes stay where they were received, with any header written in place in front of them); the control
 * plane appends {@link Command}s. The loop reads both after every call and then {@link #clear}s it.
 */
public final class Outbox {
    public enum Forward {
        NONE,
        /** Send bytes from {@link #relay()}'s socket to {@link #destination()} (a peer). */
        TO_PEER,
        /** Send bytes from listening socket {@link #listener()} to {@link #destination()} (a client). */
        TO_CLIENT
    }

    private final ArrayDeque<Command> commands = new ArrayDeque<>();
    private Forward forward = Forward.NONE;
    private RelayEndpoint relay;
    private int listener;
    private InetSocketAddress destination;
    private int offset;
    private int length;
    private boolean channelData;
    /** The buffer the bytes are in when not the input's, or null. */
    private java.nio.ByteBuffer buffer;

    public void clear() {
        forward = Forward.NONE;
        relay = null;
        destination = null;
        buffer = null;
        commands.clear();
    }

    /** The bytes to forward are in {@code buffer}, not in the input's (a copy made inside the core). */
    void from(java.nio.ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * The buffer the bytes to forward are in: {@code input}, the one the input was read from, unless the core
     * copied them elsewhere (another allocation of this relay, delivered inside).
     */
    public java.nio.ByteBuffer buffer(java.nio.ByteBuffer input) {
        return buffer != null ? buffer : input;
    }

    void forwardToPeer(RelayEndpoint relay, InetSocketAddress peer, int offset, int length) {
        this.forward = Forward.TO_PEER;
        this.relay = relay;
        this.destination = peer;
        this.offset = offset;
        this.length = length;
    }

    /** {@code channelData}: the bytes are ChannelData (a stream pads it), else a STUN message (a Data indication). */
    void forwardToClient(int listener, InetSocketAddress client, int offset, int length, boolean channelData) {
        this.forward = Forward.TO_CLIENT;
        this.listener = listener;
        this.destination = client;
        this.offset = offset;
        this.length = length;
        this.channelData = channelData;
    }

    void add(Command command) {
        commands.add(command);
    }

    public Forward forward() {
        return forward;
    }

    public RelayEndpoint relay() {
        return relay;
    }

    public int listener() {
        return listener;
    }

    public InetSocketAddress destination() {
        return destination;
    }

    /** Where the bytes to forward start in {@link #buffer}. */
    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /**
     * For {@link Forward#TO_CLIENT}: whether the bytes are ChannelData, which a stream pads to a multiple of 4
     * (RFC 8656 §12.5), rather than a STUN message; said here so that no transport reads the bytes to know.
     */
    public boolean channelData() {
        return channelData;
    }

    /** The next control-plane command, or null when there is none left. */
    public Command poll() {
        return commands.poll();
    }

    public boolean hasCommands() {
        return !commands.isEmpty();
    }
}
