package dev.turnpike.core;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.TurnAttributes;
import java.nio.ByteBuffer;

/**
 * Writes a Data indication (RFC 8656 §11.4) in place around a peer's payload: the header in front of it, the
 * padding behind it. The payload is never copied.
 *
 * <pre>
 * | STUN header (20) | XOR-PEER-ADDRESS (4 + 8 or 20) | DATA header (4) | payload | padding to 4 |
 * </pre>
 */
final class DataIndication {
    static final int TYPE = StunMethod.messageType(StunMethod.DATA, StunMethod.CLASS_INDICATION);

    private DataIndication() {}

    /** Bytes written in front of the payload for a peer of this address length (4 or 16). */
    static int headerLength(int peerAddressLength) {
        return StunMessage.HEADER_LENGTH + 4 + 4 + peerAddressLength + 4;
    }

    /**
     * Writes the indication so that it ends with the payload at {@code payloadOffset}; answers its start.
     * {@code ipv4} is the address as an int (for IPv4), {@code ipv6} the 16 bytes (for IPv6, else null).
     */
    static int write(
            ByteBuffer buffer,
            int payloadOffset,
            int payloadLength,
            long txHigh,
            int txLow,
            int ipv4,
            byte[] ipv6,
            int port) {
        int addressLength = ipv6 == null ? 4 : 16;
        int start = payloadOffset - headerLength(addressLength);
        int padding = (4 - (payloadLength & 3)) & 3;
        int bodyLength = headerLength(addressLength) - StunMessage.HEADER_LENGTH + payloadLength + padding;
        buffer.putShort(start, (short) TYPE);
        buffer.putShort(start + 2, (short) bodyLength);
        buffer.putInt(start + 4, StunMessage.MAGIC_COOKIE);
        buffer.putLong(start + 8, txHigh);
        buffer.putInt(start + 16, txLow);
        int attribute = start + StunMessage.HEADER_LENGTH;
        buffer.putShort(attribute, (short) StunAttribute.XOR_PEER_ADDRESS);
        buffer.putShort(attribute + 2, (short) (4 + addressLength));
        buffer.put(attribute + 4, (byte) 0);
        buffer.put(attribute + 5, (byte) (ipv6 == null ? TurnAttributes.FAMILY_IPV4 : TurnAttributes.FAMILY_IPV6));
        buffer.putShort(attribute + 6, (short) (port ^ (StunMessage.MAGIC_COOKIE >>> 16)));
        if (ipv6 == null) {
            buffer.putInt(attribute + 8, ipv4 ^ StunMessage.MAGIC_COOKIE);
        } else {
            for (int i = 0; i < 16; i++) {
                buffer.put(attribute + 8 + i, (byte) (ipv6[i] ^ buffer.get(start + 4 + i)));
            }
        }
        int data = attribute + 8 + addressLength;
        buffer.putShort(data, (short) StunAttribute.DATA);
        buffer.putShort(data + 2, (short) payloadLength);
        for (int i = 0; i < padding; i++) {
            buffer.put(payloadOffset + payloadLength + i, (byte) 0);
        }
        return start;
    }
}
