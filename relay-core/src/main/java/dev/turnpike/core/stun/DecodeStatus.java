package dev.turnpike.core.stun;

/**
 * What the decoder made of a datagram. Junk from the network is ordinary input, so it is reported as a
 * status (and counted by the caller), never thrown.
 */
public enum DecodeStatus {
    OK,
    /** Shorter than the 20-byte STUN header. */
    TOO_SHORT,
    /** The two leading bits are not zero: not a STUN message (perhaps ChannelData or junk). */
    NOT_STUN,
    BAD_MAGIC_COOKIE,
    /** The header's length is not a multiple of 4 or does not match the datagram. */
    BAD_LENGTH,
    /** An attribute's length runs past the end of the message. */
    TRUNCATED_ATTRIBUTE,
    /** Something follows FINGERPRINT, or an integrity or fingerprint attribute has the wrong size. */
    MISPLACED_ATTRIBUTE,
    /** More attributes than one datagram plausibly needs. */
    TOO_MANY_ATTRIBUTES
}
