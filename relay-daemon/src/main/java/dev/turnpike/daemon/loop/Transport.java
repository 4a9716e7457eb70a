package dev.turnpike.daemon.loop;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/**
 * One way clients reach the loop: UDP ({@link DatagramTransport}), TCP and TLS ({@code StreamTransport}); DTLS and
 * a shared HTTPS port are next. A transport owns its listening sockets (under the listener numbers {@link
 * Listeners} gives them) and whatever it opens for them, all registered with the loop's selector; the loop hands it
 * the keys that are ready, sends to a client through the transport of the client's listener, and sweeps and closes
 * them all alike ({@link Transports}). Loop thread only.
 */
public interface Transport {
    /** Binds the listener {@code listener} of this transport's kind; called once per listener, before the loop runs. */
    void listen(Listeners.Listener listener) throws java.io.IOException;

    /** The address listener {@code listener} is bound to (port 0 resolved). */
    InetSocketAddress boundAddress(int listener) throws java.io.IOException;

    /** Whether {@code key} (one of the loop's selector) is this transport's. */
    boolean owns(SelectionKey key);

    /** One of this transport's keys on the loop's selector is ready. */
    void onReady(SelectionKey key, long nowNs);

    /**
     * Sends a whole message, position to limit of {@code bytes}, to {@code client} on {@code listener}: ChannelData
     * when {@code channelData} (a stream pads it), else STUN. {@code flow}: the relay socket of the allocation it
     * belongs to, or null ({@link FairShare}); {@code trafficClass}: the TOS byte it arrived with (kept where the
     * transport can).
     */
    void send(
            int listener,
            InetSocketAddress client,
            ByteBuffer bytes,
            boolean channelData,
            UdpSocket flow,
            int trafficClass,
            long nowNs);

    /**
     * Writes what the transport gathered for its clients during the pass (a stream writes a connection's messages
     * of one pass together): called after each round of ready keys and at the top of every pass, so that nothing
     * waits past the pass it was sent in.
     */
    default void endOfPass(long nowNs) {}

    /** RFC 6062's TCP relayed addresses, for the transport that keeps client connections (TCP, TLS); else null. */
    default TcpRelaySockets tcpRelaySockets() {
        return null;
    }

    /** Time-outs and whatever else a transport checks about once a second. */
    void sweep(long nowNs);

    /** Closes every socket it holds: the relay is stopping. */
    void close();
}
