package dev.turnpike.core;

import dev.turnpike.core.stun.ErrorCode;
import java.net.InetSocketAddress;

/**
 * Why a request is refused, as a handler returns it: the error, the reason phrase the client reads, and why, for
 * the operator's DEBUG line (never sent). {@code Responses.refuse} writes every such answer in one place.
 *
 * @param reasonPhrase what the client reads: the RFC's phrase unless a person checking the relay needs more (a
 *     drain), never a detail of policy
 * @param alternateServer for 300 Try Alternate, the ALTERNATE-SERVER; else null
 * @param unknownAttributes for 420, the UNKNOWN-ATTRIBUTES to list; else null
 */
record Refused(
        ErrorCode code, String reasonPhrase, String why, InetSocketAddress alternateServer, int[] unknownAttributes) {

    /** {@code code} with the RFC's reason phrase. */
    static Refused with(ErrorCode code, String why) {
        return new Refused(code, code.reason, why, null, null);
    }

    /** {@code code} with a reason phrase of our own (see {@link #reasonPhrase}). */
    static Refused phrased(ErrorCode code, String reasonPhrase, String why) {
        return new Refused(code, reasonPhrase, why, null, null);
    }

    /** 300 Try Alternate naming {@code alternate} (RFC 8489 §10). */
    static Refused tryAlternate(InetSocketAddress alternate, String why) {
        ErrorCode code = ErrorCode.TRY_ALTERNATE;
        return new Refused(code, code.reason, why, alternate, null);
    }

    /** 420 listing {@code types} (RFC 8489 §14.9). */
    static Refused unknownAttributes(int[] types, String why) {
        ErrorCode code = ErrorCode.UNKNOWN_ATTRIBUTE;
        return new Refused(code, code.reason, why, null, types);
    }
}
