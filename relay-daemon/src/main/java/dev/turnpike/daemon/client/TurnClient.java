package dev.turnpike.daemon.client;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.function.Consumer;

/**
 * A TURN client over one UDP socket or one TCP or TLS connection (a {@link Wire}), built on the project's codec:
 * the 401 exchange, Allocate, Refresh, CreatePermission, ChannelBind, ChannelData and Send indications, Binding.
 * The daemon's tests, {@code turnpike probe} and the load generator all drive relays with it (the proof against
 * clients nobody here wrote is the coturn and browser interop). Every wait is bounded by a timeout.
 */
public final class TurnClient implements AutoCloseable {
    private final Wire wire;
    /** The UDP socket, for callers that multiplex many clients themselves; null over a stream. */
    private final DatagramChannel channel;

    private final InetSocketAddress server;
    private final String username;
    private final String password;
    /** The realm to sign for: the one given, or (given null) the one the relay's first challenge names. */
    private String realm;

    private byte[] key;
    private int channelNumber;
    private int roundTrips;
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final StunWriter writer = new StunWriter(integrity);
    private final ByteBuffer out = ByteBuffer.allocateDirect(70_000);
    private final ByteBuffer in = ByteBuffer.allocateDirect(dev.turnpike.core.stun.StreamFraming.MAX_MESSAGE);
    private String nonce;
    private long tx = 1;

    public TurnClient(InetSocketAddress server, String username, String password, String realm) throws IOException {
        this(server, new InetSocketAddress(server.getAddress(), 0), username, password, realm);
    }

    /** A client whose socket is bound to {@code local} (say another loopback address, to be another source). */
    public TurnClient(InetSocketAddress server, InetSocketAddress local, String username, String password, String realm)
            throws IOException {
        this(server, DatagramChannel.open(), local, username, password, realm);
    }

    /**
     * A client on {@code unbound}, a socket the caller has opened and set options on (say SO_REUSEADDR, to share
     * a port with a socket of its own), bound here to {@code local}.
     */
    public TurnClient(
            InetSocketAddress server,
            DatagramChannel unbound,
            InetSocketAddress local,
            String username,
            String password,
            String realm)
            throws IOException {
        this.server = server;
        this.username = username;
        this.password = password;
        this.realm = realm;
        this.key = realm == null ? null : LongTermKey.md5(username, realm, password);
        this.channel = unbound;
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            channel.bind(local);
            this.wire = new DatagramWire(channel, server);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private TurnClient(InetSocketAddress server, Wire stream, String username, String password, String realm) {
        this.server = server;
        this.username = username;
        this.password = password;
        this.realm = realm;
        this.key = realm == null ? null : LongTermKey.md5(username, realm, password);
        this.channel = null;
        this.wire = stream;
    }

    /** A client over a TCP connection to {@code server} (RFC 8656 §3.1), connected within {@code timeoutMs}. */
    public static TurnClient overTcp(
            InetSocketAddress server, String username, String password, String realm, long timeoutMs)
            throws IOException {
        return new TurnClient(server, StreamWire.tcp(server, timeoutMs), username, password, realm);
    }

    /** As {@link #overTcp(InetSocketAddress, String, String, String, long)}, every segment marked {@code tos}. */
    public static TurnClient overTcp(
            InetSocketAddress server, String username, String password, String realm, long timeoutMs, int tos)
            throws IOException {
        return new TurnClient(server, StreamWire.tcp(server, timeoutMs, tos), username, password, realm);
    }

    /**
     * A client over TLS to {@code server}, offering ALPN {@code stun.turn}; {@code hostName} (or null) for SNI and,
     * with {@code verify}, for the certificate, which must then chain to the JDK's trusted roots.
     */
    public static TurnClient overTls(
            InetSocketAddress server,
            String hostName,
            boolean verify,
            String username,
            String password,
            String realm,
            long timeoutMs)
            throws IOException {
        return new TurnClient(server, StreamWire.tls(server, hostName, verify, timeoutMs), username, password, realm);
    }

    /** A client over TLS to {@code server}, any certificate taken, every segment marked {@code tos}. */
    public static TurnClient overTls(
            InetSocketAddress server, String username, String password, String realm, long timeoutMs, int tos)
            throws IOException {
        return new TurnClient(server, StreamWire.tls(server, null, false, timeoutMs, tos), username, password, realm);
    }

    /**
     * A client with time-limited credentials from a shared secret (the "TURN REST API"): username
     * {@code EXPIRY:name}, valid for a day, password base64(HMAC-SHA1(secret, username)).
     */
    public static TurnClient withSecret(
            InetSocketAddress server, InetSocketAddress local, String name, String secret, String realm)
            throws IOException {
        Credentials.TimeLimited credentials =
                Credentials.timeLimited(secret, name, System.currentTimeMillis() / 1000 + 86_400);
        return new TurnClient(server, local, credentials.username(), credentials.password(), realm);
    }

    /** Marks what this client sends from now on (IP_TOS): DSCP, and over UDP ECN too (TCP keeps ECN its own). */
    public void trafficClass(int tos) throws IOException {
        wire.trafficClass(tos);
    }

    /** The UDP socket, for a caller that multiplexes many clients on a selector of its own (non-blocking). */
    public DatagramChannel channel() {
        if (channel == null) {
            throw new IllegalStateException("a TCP or TLS client has no datagram channel");
        }
        return channel;
    }

    public InetSocketAddress server() {
        return server;
    }

    /** The channel number of the last ChannelBind. */
    public int channelNumber() {
        return channelNumber;
    }

    /** Request round trips made so far, 401 challenges included. */
    public int roundTrips() {
        return roundTrips;
    }

    /** The client's receive buffer, for a caller that reads its socket itself. */
    public ByteBuffer inBuffer() {
        return in;
    }

    /** The UDP socket's local address (a stream client's is its connection's, which this does not tell). */
    public InetSocketAddress localAddress() throws IOException {
        return (InetSocketAddress) channel().getLocalAddress();
    }

    /** Sends a signed request (after one 401 round trip for the nonce) and answers the success response. */
    public StunMessage request(int method, Consumer<StunWriter> attributes) throws IOException {
        StunMessage response = ask(method, attributes);
        if (response.errorCode() == 401 || response.errorCode() == 438) {
            throw new IOException("not authenticated after 3 attempts");
        }
        if (response.errorCode() >= 0) {
            throw new IOException("error response to method " + method + ": " + response.errorCode());
        }
        return response;
    }

    /** Sends a signed request (after one 401 round trip for the nonce) and answers the final response, error or not. */
    public StunMessage ask(int method, Consumer<StunWriter> attributes) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            StunMessage response = askOnce(method, attributes);
            int code = response.errorCode();
            if ((code == 401 || code == 438) && attempt < 2) {
                nonce = response.string(StunAttribute.NONCE);
                String challengeRealm = response.string(StunAttribute.REALM);
                if (key == null && challengeRealm != null) {
                    realm = challengeRealm;
                    key = LongTermKey.md5(username, realm, password);
                }
                continue;
            }
            return response;
        }
        throw new IOException("not authenticated after 3 attempts");
    }

    public InetSocketAddress allocate() throws IOException {
        StunMessage response =
                request(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
        return response.xorAddress(response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
    }

    /** Sends one request signed with the nonce held (unsigned if none), no retry; answers the response. */
    public StunMessage askOnce(int method, Consumer<StunWriter> attributes) throws IOException {
        StunMessage response = askOnce(method, attributes, 5_000);
        if (response == null) {
            throw new SocketTimeoutException("no STUN response within 5000 ms");
        }
        return response;
    }

    /** As {@link #askOnce(int, Consumer)}, but null when no answer comes within {@code timeoutMs}. */
    public StunMessage askOnce(int method, Consumer<StunWriter> attributes, long timeoutMs) throws IOException {
        // the request, signed with the nonce held (the first of a client goes unsigned, to get one)
        writer.begin(out.clear(), 0, StunMethod.messageType(method, StunMethod.CLASS_REQUEST), tx++, 0);
        attributes.accept(writer);
        if (nonce != null && key != null) {
            writer.addString(StunAttribute.USERNAME, username)
                    .addString(StunAttribute.REALM, realm)
                    .addString(StunAttribute.NONCE, nonce)
                    .addMessageIntegrity(key);
        }
        wire.send(out.limit(writer.length()).position(0));
        roundTrips++;
        return receiveResponse(tx - 1, timeoutMs);
    }

    /** The response to transaction {@code id} within {@code timeoutMs}, skipping any other; null if none came. */
    private StunMessage receiveResponse(long id, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return null;
            }
            StunMessage message;
            try {
                message = receiveStun(left);
            } catch (SocketTimeoutException timeout) {
                return null;
            }
            if (message.transactionIdHigh() == id) {
                return message;
            }
        }
    }

    /** Allocate asking for {@code lifetimeSeconds}; answers the relayed address. */
    public InetSocketAddress allocate(long lifetimeSeconds) throws IOException {
        StunMessage response = request(
                StunMethod.ALLOCATE,
                w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                        .addU32(StunAttribute.LIFETIME, lifetimeSeconds));
        return response.xorAddress(response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
    }

    /** Refresh with LIFETIME {@code seconds} (0 deletes the allocation). */
    public void refresh(long seconds) throws IOException {
        request(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, seconds));
    }

    /** Allocate for an hour, then bind channel {@code number} to {@code peer}. */
    public void setUp(InetSocketAddress peer, int number) throws IOException {
        allocate(3600);
        channelBind(number, peer);
    }

    /** Deletes the allocation (Refresh with LIFETIME 0); best effort: the server forgets it at expiry anyway. */
    public void tearDown() {
        try {
            askOnce(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0), 3_000);
        } catch (IOException | RuntimeException e) {
            // gone, or going
        }
    }

    /** An allocation with an IPv4 and an IPv6 relayed address (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 §7.2). */
    public StunMessage allocateDual() throws IOException {
        return request(
                StunMethod.ALLOCATE,
                w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                        .addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2));
    }

    /** The nonce the client holds (after its first request), for tests that alter it. */
    public String nonce() {
        return nonce;
    }

    /** Replaces the nonce the client will sign with. */
    public void nonce(String value) {
        nonce = value;
    }

    public void channelBind(int number, InetSocketAddress peer) throws IOException {
        channelNumber = number;
        request(
                StunMethod.CHANNEL_BIND,
                w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) number) << 16)
                        .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
    }

    public void createPermission(InetSocketAddress peer) throws IOException {
        request(StunMethod.CREATE_PERMISSION, w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
    }

    /** Sends ChannelData; answers false if the socket buffer was full (the datagram was not sent). */
    public boolean sendChannelData(int number, ByteBuffer payload) throws IOException {
        out.clear();
        out.putShort((short) number)
                .putShort((short) payload.remaining())
                .put(payload.duplicate())
                .flip();
        if (channel != null) {
            return channel.send(out, server) > 0;
        }
        wire.send(out);
        return true;
    }

    /** Sends a Send indication of {@code payload} to {@code peer} (RFC 8656 §11.1). */
    public void sendIndication(InetSocketAddress peer, byte[] payload) throws IOException {
        writer.begin(out.clear(), 0, StunMethod.messageType(StunMethod.SEND, StunMethod.CLASS_INDICATION), tx++, 0);
        writer.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer).addBytes(StunAttribute.DATA, payload);
        wire.send(out.limit(writer.length()).position(0));
    }

    /** A Binding request; answers the mapped address the relay saw. */
    public InetSocketAddress binding(long timeoutMs) throws IOException {
        writer.begin(out.clear(), 0, StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_REQUEST), tx++, 0);
        wire.send(out.limit(writer.length()).position(0));
        StunMessage response = receiveResponse(tx - 1, timeoutMs);
        if (response == null) {
            throw new SocketTimeoutException("no Binding response within " + timeoutMs + " ms");
        }
        return response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS));
    }

    /** Sends raw bytes to the relay's listening address. */
    public void sendRaw(byte[] datagram) throws IOException {
        wire.send(ByteBuffer.wrap(datagram));
    }

    /**
     * Sends one whole message the caller wrote (a STUN message or ChannelData, position to limit), as it is; over a
     * stream ChannelData is padded. For a load generator that writes its own ChannelData.
     */
    public void send(ByteBuffer message) throws IOException {
        wire.send(message);
    }

    /** Asks for a receive buffer of {@code bytes}: a client that stops reading then fills it sooner. */
    public void receiveBuffer(int bytes) throws IOException {
        wire.receiveBuffer(bytes);
    }

    /** Receives one datagram into the client's buffer within {@code timeoutMs}; null on timeout. */
    public ByteBuffer receive(long timeoutMs) throws IOException {
        return wire.receive(in, timeoutMs);
    }

    public StunMessage receiveStun(long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            ByteBuffer datagram = receive(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (datagram == null) {
                throw new SocketTimeoutException("no STUN response within " + timeoutMs + " ms");
            }
            StunMessage message = new StunMessage();
            byte[] copy = new byte[datagram.remaining()];
            datagram.get(copy);
            if (message.wrap(ByteBuffer.wrap(copy), 0, copy.length) == DecodeStatus.OK
                    && message.messageClass() != StunMethod.CLASS_INDICATION) {
                return message;
            }
        }
    }

    @Override
    public void close() throws IOException {
        wire.close();
    }
}
