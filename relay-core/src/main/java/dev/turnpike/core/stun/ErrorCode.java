package dev.turnpike.core.stun;

/** The STUN/TURN error codes this server sends, with the reason phrases the RFCs suggest. */
public enum ErrorCode {
    TRY_ALTERNATE(300, "Try Alternate"),
    BAD_REQUEST(400, "Bad Request"),
    UNAUTHENTICATED(401, "Unauthenticated"),
    FORBIDDEN(403, "Forbidden"),
    UNKNOWN_ATTRIBUTE(420, "Unknown Attribute"),
    ALLOCATION_MISMATCH(437, "Allocation Mismatch"),
    STALE_NONCE(438, "Stale Nonce"),
    ADDRESS_FAMILY_NOT_SUPPORTED(440, "Address Family not Supported"),
    WRONG_CREDENTIALS(441, "Wrong Credentials"),
    UNSUPPORTED_TRANSPORT_PROTOCOL(442, "Unsupported Transport Protocol"),
    PEER_ADDRESS_FAMILY_MISMATCH(443, "Peer Address Family Mismatch"),
    /** RFC 6062 §6.3: a Connect to a peer this allocation has a connection to, or is connecting to. */
    CONNECTION_ALREADY_EXISTS(446, "Connection Already Exists"),
    /** RFC 6062 §6.3: the relay could not connect to the peer, or not in time. */
    CONNECTION_TIMEOUT_OR_FAILURE(447, "Connection Timeout or Failure"),
    ALLOCATION_QUOTA_REACHED(486, "Allocation Quota Reached"),
    INSUFFICIENT_CAPACITY(508, "Insufficient Capacity");

    public final int code;
    public final String reason;

    ErrorCode(int code, String reason) {
        this.code = code;
        this.reason = reason;
    }
}
