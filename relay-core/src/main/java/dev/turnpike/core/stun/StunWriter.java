package dev.turnpike.core.stun;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes one STUN message into a buffer at absolute offsets, keeping the header's length field equal to the
 * bytes written so far. MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT are computed over exactly those bytes.
 *
 * <p>Reuse one instance per thread; it is not thread-safe.
 */
public final class StunWriter {
    private final MessageIntegrity integrity;
    private ByteBuffer buffer;
    private int start;
    private int position;
    private byte padding;

    public StunWriter(MessageIntegrity integrity) {
        this.integrity = integrity;
    }

    /** Starts a message of the given type whose transaction id is copied from {@code request}. */
    public StunWriter begin(ByteBuffer buffer, int offset, int messageType, StunMessage request) {
        return begin(buffer, offset, messageType, request.transactionIdHigh(), request.transactionIdLow());
    }

    public StunWriter begin(ByteBuffer buffer, int offset, int messageType, long txHigh, int txLow) {
        this.buffer = buffer;
        this.start = offset;
        buffer.putShort(offset, (short) messageType);
        buffer.putShort(offset + 2, (short) 0);
        buffer.putInt(offset + 4, StunMessage.MAGIC_COOKIE);
        buffer.putLong(offset + 8, txHigh);
        buffer.putInt(offset + 16, txLow);
        this.position = offset + StunMessage.HEADER_LENGTH;
        return this;
    }

    /**
     * The byte that pads attribute values to a multiple of 4 (zero unless set). Receivers must ignore it;
     * the RFC 5769 vectors pad with spaces, and re-encoding them byte for byte needs the same.
     */
    public StunWriter padding(byte value) {
        this.padding = value;
        return this;
    }

    /** Bytes written so far, header included. */
    public int length() {
        return position - start;
    }

    public int offset() {
        return start;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    /** Copies the message written so far into a new array (control plane). */
    public byte[] toBytes() {
        byte[] out = new byte[length()];
        buffer.get(start, out);
        return out;
    }

    private int beginAttribute(int type, int valueLength) {
        buffer.putShort(position, (short) type);
        buffer.putShort(position + 2, (short) valueLength);
        int value = position + 4;
        int padded = (valueLength + 3) & ~3;
        for (int i = valueLength; i < padded; i++) {
            buffer.put(value + i, padding);
        }
        position = value + padded;
        buffer.putShort(start + 2, (short) (position - start - StunMessage.HEADER_LENGTH));
        return value;
    }

    public StunWriter addBytes(int type, byte[] value) {
        int at = beginAttribute(type, value.length);
        buffer.put(at, value);
        return this;
    }

    /** Copies {@code length} bytes from {@code source} at {@code sourceOffset} as the attribute's value. */
    public StunWriter addBytes(int type, ByteBuffer source, int sourceOffset, int length) {
        int at = beginAttribute(type, length);
        buffer.put(at, source, sourceOffset, length);
        return this;
    }

    public StunWriter addString(int type, String value) {
        return addBytes(type, value.getBytes(StandardCharsets.UTF_8));
    }

    public StunWriter addU32(int type, long value) {
        int at = beginAttribute(type, 4);
        buffer.putInt(at, (int) value);
        return this;
    }

    /** An attribute whose 4-byte value carries one byte followed by three reserved zero bytes. */
    public StunWriter addByteAndReserved(int type, int first) {
        int at = beginAttribute(type, 4);
        buffer.putInt(at, (first & 0xFF) << 24);
        return this;
    }

    public StunWriter addEmpty(int type) {
        beginAttribute(type, 0);
        return this;
    }

    /** XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2). */
    public StunWriter addXorAddress(int type, InetSocketAddress address) {
        return addXorAddress(type, address.getAddress(), address.getPort());
    }

    public StunWriter addXorAddress(int type, InetAddress ip, int port) {
        byte[] raw = ip.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        int at = beginAttribute(type, v4 ? 8 : 20);
        buffer.put(at, (byte) 0);
        buffer.put(at + 1, (byte) (v4 ? TurnAttributes.FAMILY_IPV4 : TurnAttributes.FAMILY_IPV6));
        buffer.putShort(at + 2, (short) (port ^ (StunMessage.MAGIC_COOKIE >>> 16)));
        for (int i = 0; i < raw.length; i++) {
            // bytes 4..19 of the header are the cookie followed by the transaction id
            buffer.put(at + 4 + i, (byte) (raw[i] ^ buffer.get(start + 4 + i)));
        }
        return this;
    }

    /** MAPPED-ADDRESS and ALTERNATE-SERVER (RFC 8489 §14.1): the same layout without the XOR. */
    public StunWriter addPlainAddress(int type, InetSocketAddress address) {
        byte[] raw = address.getAddress().getAddress();
        int at = beginAttribute(type, 4 + raw.length);
        buffer.put(at, (byte) 0);
        buffer.put(at + 1, (byte) (raw.length == 4 ? TurnAttributes.FAMILY_IPV4 : TurnAttributes.FAMILY_IPV6));
        buffer.putShort(at + 2, (short) address.getPort());
        buffer.put(at + 4, raw);
        return this;
    }

    // RFC 8489 §14.8
    // |           Reserved, should be 0         |Class|     Number    |
    // |      Reason Phrase (variable)                                ..
    public StunWriter addErrorCode(int code, String reason) {
        byte[] phrase = reason.getBytes(StandardCharsets.UTF_8);
        int at = beginAttribute(StunAttribute.ERROR_CODE, 4 + phrase.length);
        buffer.putShort(at, (short) 0);
        buffer.put(at + 2, (byte) (code / 100));
        buffer.put(at + 3, (byte) (code % 100));
        buffer.put(at + 4, phrase);
        return this;
    }

    /** RFC 8656 §18.11 ADDRESS-ERROR-CODE: family, reserved, class, number, reason. */
    public StunWriter addAddressErrorCode(int family, int code, String reason) {
        byte[] phrase = reason.getBytes(StandardCharsets.UTF_8);
        int at = beginAttribute(StunAttribute.ADDRESS_ERROR_CODE, 4 + phrase.length);
        buffer.put(at, (byte) family);
        buffer.put(at + 1, (byte) 0);
        buffer.put(at + 2, (byte) (code / 100));
        buffer.put(at + 3, (byte) (code % 100));
        buffer.put(at + 4, phrase);
        return this;
    }

    /** RFC 8489 §14.9: a list of 16-bit attribute types. */
    public StunWriter addUnknownAttributes(int[] types, int n) {
        int at = beginAttribute(StunAttribute.UNKNOWN_ATTRIBUTES, 2 * n);
        for (int i = 0; i < n; i++) {
            buffer.putShort(at + 2 * i, (short) types[i]);
        }
        return this;
    }

    /** RFC 8489 §14.11 PASSWORD-ALGORITHMS: algorithm number and empty parameters, per entry. */
    public StunWriter addPasswordAlgorithms(int... algorithms) {
        int at = beginAttribute(StunAttribute.PASSWORD_ALGORITHMS, 4 * algorithms.length);
        for (int i = 0; i < algorithms.length; i++) {
            buffer.putShort(at + 4 * i, (short) algorithms[i]);
            buffer.putShort(at + 4 * i + 2, (short) 0);
        }
        return this;
    }

    /** HMAC-SHA1 over the message so far, with the length field already counting this attribute. */
    public StunWriter addMessageIntegrity(byte[] key) {
        int at = beginAttribute(StunAttribute.MESSAGE_INTEGRITY, MessageIntegrity.SHA1_LENGTH);
        integrity.sha1(key, buffer, start, at - 4 - start, buffer, at);
        return this;
    }

    /** HMAC-SHA256 (full 32 bytes) over the message so far, the length field counting this attribute. */
    public StunWriter addMessageIntegritySha256(byte[] key) {
        int at = beginAttribute(StunAttribute.MESSAGE_INTEGRITY_SHA256, MessageIntegrity.SHA256_LENGTH);
        integrity.sha256(key, buffer, start, at - 4 - start, buffer, at);
        return this;
    }

    /** CRC-32 of the message so far XOR 0x5354554e (RFC 8489 §14.7); must be the last attribute. */
    public StunWriter addFingerprint() {
        int at = beginAttribute(StunAttribute.FINGERPRINT, 4);
        buffer.putInt(at, integrity.fingerprint(buffer, start, at - 4 - start));
        return this;
    }
}
