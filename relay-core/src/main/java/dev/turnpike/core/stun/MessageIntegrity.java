package dev.turnpike.core.stun;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC and CRC over STUN messages (RFC 8489 §14.5-14.7). The HMAC input is the message up to the integrity
 * attribute, with the header's length field rewritten to end just after that attribute. One instance per
 * thread: the Mac objects and the scratch buffer are reused.
 */
public final class MessageIntegrity {
    public static final int SHA1_LENGTH = 20;
    public static final int SHA256_LENGTH = 32;
    private static final int FINGERPRINT_XOR = 0x5354554e;

    private final Mac hmacSha1;
    private final Mac hmacSha256;
    private final CRC32 crc = new CRC32();
    private final byte[] scratch = new byte[65_536 + StunMessage.HEADER_LENGTH];

    public MessageIntegrity() {
        try {
            hmacSha1 = Mac.getInstance("HmacSHA1");
            hmacSha256 = Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks HmacSHA1/HmacSHA256, which every JDK must have", e);
        }
    }

    /**
     * Writes HMAC-SHA1 of the {@code length} bytes at {@code offset} (header plus the attributes before
     * MESSAGE-INTEGRITY, the length field already adjusted) into {@code out} at {@code outOffset}.
     */
    void sha1(byte[] key, ByteBuffer message, int offset, int length, ByteBuffer out, int outOffset) {
        out.put(outOffset, mac(hmacSha1, key, message, offset, length, -1));
    }

    void sha256(byte[] key, ByteBuffer message, int offset, int length, ByteBuffer out, int outOffset) {
        out.put(outOffset, mac(hmacSha256, key, message, offset, length, -1));
    }

    int fingerprint(ByteBuffer message, int offset, int length) {
        message.get(offset, scratch, 0, length);
        crc.reset();
        crc.update(scratch, 0, length);
        return (int) crc.getValue() ^ FINGERPRINT_XOR;
    }

    /** True when the message's MESSAGE-INTEGRITY matches HMAC-SHA1 under {@code key}; constant-time. */
    public boolean verifySha1(StunMessage message, byte[] key) {
        int index = message.integrityIndex();
        return index >= 0 && verify(hmacSha1, message, index, key);
    }

    /** True when MESSAGE-INTEGRITY-SHA256 (possibly truncated to 16..32 bytes) matches; constant-time. */
    public boolean verifySha256(StunMessage message, byte[] key) {
        int index = message.integritySha256Index();
        return index >= 0 && verify(hmacSha256, message, index, key);
    }

    /** True when the message has a FINGERPRINT and it matches. */
    public boolean verifyFingerprint(StunMessage message) {
        int index = message.fingerprintIndex();
        if (index < 0) {
            return false;
        }
        int attribute = message.attributeOffset(index);
        int expected = fingerprint(message.buffer(), message.offset(), attribute - message.offset());
        return message.buffer().getInt(message.valueOffset(index)) == expected;
    }

    private boolean verify(Mac mac, StunMessage message, int index, byte[] key) {
        int attribute = message.attributeOffset(index);
        int covered = attribute - message.offset();
        int adjustedLength = covered - StunMessage.HEADER_LENGTH + 4 + message.valueLength(index);
        byte[] computed = mac(mac, key, message.buffer(), message.offset(), covered, adjustedLength);
        int received = message.valueLength(index);
        byte[] actual = new byte[received];
        message.buffer().get(message.valueOffset(index), actual);
        byte[] truncated = computed.length == received ? computed : Arrays.copyOf(computed, received);
        return MessageDigest.isEqual(truncated, actual);
    }

    /** HMAC over {@code length} bytes, with the STUN length field replaced by {@code lengthField} if >= 0. */
    private byte[] mac(Mac mac, byte[] key, ByteBuffer message, int offset, int length, int lengthField) {
        message.get(offset, scratch, 0, length);
        if (lengthField >= 0) {
            scratch[2] = (byte) (lengthField >>> 8);
            scratch[3] = (byte) lengthField;
        }
        try {
            // SecretKeySpec rejects an empty key; HMAC pads keys with zeros, so one zero byte is the same key.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, mac.getAlgorithm()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC refused a raw key", e);
        }
        mac.update(scratch, 0, length);
        return mac.doFinal();
    }
}
