package dev.turnpike.benchmarks;

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
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * One load-generator client: a UDP socket, an allocation on the server under test, and a channel to the echo
 * peer. Works against any TURN server with long-term credentials (static or shared-secret).
 */
final class TurnClient implements AutoCloseable {
    final DatagramChannel channel;
    private final InetSocketAddress server;
    private final String username;
    private final String realmHint;
    private final String password;
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final StunWriter writer = new StunWriter(integrity);
    private final ByteBuffer out = ByteBuffer.allocateDirect(2048);
    private final ByteBuffer in = ByteBuffer.allocateDirect(4096);
    private String realm;
    private String nonce;
    private byte[] key;
    private long tx = System.nanoTime();
    int channelNumber;
    /** Request round trips this client made (401 challenges included). */
    int roundTrips;

    TurnClient(InetSocketAddress server, String localIp, String username, String password, String secret, String realm)
            throws IOException {
        this.server = server;
        if (secret != null) {
            // shared-secret credentials: valid for a day
            this.username = (System.currentTimeMillis() / 1000 + 86_400) + ":" + username;
            this.password = Credentials.restPassword(secret.getBytes(StandardCharsets.UTF_8), this.username);
        } else {
            this.username = username;
            this.password = password;
        }
        this.realmHint = realm;
        channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
        channel.bind(new InetSocketAddress(localIp, 0));
        channel.socket().setSoTimeout(3_000);
    }

    /** Allocate then ChannelBind to {@code peer} on {@code number}; throws on any failure. */
    void setUp(InetSocketAddress peer, int number) throws IOException {
        setUp(peer, number, 3600);
        channel.configureBlocking(false);
    }

    /** Allocate for {@code lifetimeSeconds} and bind the channel; the socket stays blocking. */
    void setUp(InetSocketAddress peer, int number, long lifetimeSeconds) throws IOException {
        request(
                StunMethod.ALLOCATE,
                w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                        .addU32(StunAttribute.LIFETIME, lifetimeSeconds));
        bind(peer, number);
    }

    /** ChannelBind, or its refresh (which refreshes the permission too); blocking socket. */
    void bind(InetSocketAddress peer, int number) throws IOException {
        request(
                StunMethod.CHANNEL_BIND,
                w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) number) << 16)
                        .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
        this.channelNumber = number;
    }

    /** Refresh with LIFETIME {@code seconds} (0 deletes); blocking socket; throws on failure. */
    void refresh(long seconds) throws IOException {
        request(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, seconds));
    }

    /** Deletes the allocation (Refresh with LIFETIME 0); best effort. */
    void tearDown() {
        try {
            channel.configureBlocking(true);
            request(StunMethod.REFRESH, w -> w.addU32(StunAttribute.LIFETIME, 0));
        } catch (IOException | RuntimeException e) {
            // the server forgets it at expiry anyway
        }
    }

    private StunMessage request(int method, Consumer<StunWriter> attributes) throws IOException {
        for (int attempt = 0; attempt < 4; attempt++) {
            writer.begin(out.clear(), 0, StunMethod.messageType(method, StunMethod.CLASS_REQUEST), tx++, 0);
            attributes.accept(writer);
            if (nonce != null) {
                writer.addString(StunAttribute.USERNAME, username)
                        .addString(StunAttribute.REALM, realm)
                        .addString(StunAttribute.NONCE, nonce)
                        .addMessageIntegrity(key);
            }
            out.limit(writer.length()).position(0);
            channel.send(out, server);
            StunMessage response = receive();
            roundTrips++;
            int code = response.errorCode();
            if (code == 401 || code == 438) {
                realm = response.string(StunAttribute.REALM);
                nonce = response.string(StunAttribute.NONCE);
                if (realm == null || nonce == null) {
                    throw new IOException("challenge without REALM/NONCE");
                }
                key = LongTermKey.md5(username, realm, password);
                continue;
            }
            if (code >= 0) {
                throw new IOException("method " + method + " failed with " + code + " (realm hint " + realmHint + ")");
            }
            return response;
        }
        throw new IOException("not authenticated after 4 attempts");
    }

    private StunMessage receive() throws IOException {
        java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[4096], 4096);
        do {
            channel.socket().receive(packet); // SocketTimeoutException after 3 s
        } while (packet.getLength() > 0 && (packet.getData()[0] & 0xC0) == 0x40); // ChannelData still in flight
        StunMessage message = new StunMessage();
        if (message.wrap(ByteBuffer.wrap(packet.getData(), 0, packet.getLength()), 0, packet.getLength())
                != DecodeStatus.OK) {
            throw new IOException("malformed response");
        }
        return message;
    }

    InetSocketAddress server() {
        return server;
    }

    ByteBuffer inBuffer() {
        return in;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
