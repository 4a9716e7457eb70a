package dev.turnpike.core;

import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A STUN request as a client builds it, for transcript tests. */
final class Req {
    private static long nextTx = 1;

    private final int method;
    private final int messageClass;
    long txHigh = nextTx++;
    int txLow = 0x5EED;
    private final List<Consumer<StunWriter>> attributes = new ArrayList<>();
    private final List<Consumer<StunWriter>> afterIntegrity = new ArrayList<>();
    private String username;
    private byte[] userHash;
    private String realm;
    private String nonce;
    private byte[] key;
    private boolean sha256;
    private boolean fingerprint;

    private Req(int method, int messageClass) {
        this.method = method;
        this.messageClass = messageClass;
    }

    static Req request(int method) {
        return new Req(method, StunMethod.CLASS_REQUEST);
    }

    static Req indication(int method) {
        return new Req(method, StunMethod.CLASS_INDICATION);
    }

    static Req allocate() {
        return request(StunMethod.ALLOCATE).transport(17);
    }

    Req transport(int protocol) {
        return with(w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, protocol));
    }

    Req lifetime(long seconds) {
        return with(w -> w.addU32(StunAttribute.LIFETIME, seconds));
    }

    Req family(int family) {
        return with(w -> w.addByteAndReserved(StunAttribute.REQUESTED_ADDRESS_FAMILY, family));
    }

    Req peer(InetSocketAddress peer) {
        return with(w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
    }

    Req channel(int number) {
        return with(w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) number) << 16));
    }

    Req data(byte[] data) {
        return with(w -> w.addBytes(StunAttribute.DATA, data));
    }

    Req with(Consumer<StunWriter> attribute) {
        attributes.add(attribute);
        return this;
    }

    Req tx(long high, int low) {
        this.txHigh = high;
        this.txLow = low;
        return this;
    }

    /** Signs with MESSAGE-INTEGRITY under the MD5 long-term key. */
    Req auth(String username, String realm, String nonce, byte[] key) {
        this.username = username;
        this.realm = realm;
        this.nonce = nonce;
        this.key = key;
        return this;
    }

    Req userHash(byte[] hash, String realm, String nonce, byte[] key) {
        this.userHash = hash;
        this.realm = realm;
        this.nonce = nonce;
        this.key = key;
        return this;
    }

    Req sha256() {
        this.sha256 = true;
        return this;
    }

    Req fingerprint() {
        this.fingerprint = true;
        return this;
    }

    /** An attribute written after the integrity attribute, which the server must ignore. */
    Req afterIntegrity(Consumer<StunWriter> attribute) {
        afterIntegrity.add(attribute);
        return this;
    }

    byte[] bytes() {
        StunWriter writer = new StunWriter(new MessageIntegrity());
        writer.begin(ByteBuffer.allocate(70_000), 0, StunMethod.messageType(method, messageClass), txHigh, txLow);
        attributes.forEach(a -> a.accept(writer));
        if (username != null) {
            writer.addString(StunAttribute.USERNAME, username);
        }
        if (userHash != null) {
            writer.addBytes(StunAttribute.USERHASH, userHash);
        }
        if (realm != null) {
            writer.addString(StunAttribute.REALM, realm);
        }
        if (nonce != null) {
            writer.addString(StunAttribute.NONCE, nonce);
        }
        if (key != null) {
            if (sha256) {
                writer.addMessageIntegritySha256(key);
            } else {
                writer.addMessageIntegrity(key);
            }
        }
        afterIntegrity.forEach(a -> a.accept(writer));
        if (fingerprint) {
            writer.addFingerprint();
        }
        return writer.toBytes();
    }
}
