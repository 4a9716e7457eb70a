package dev.turnpike.core;

import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.TurnAttributes;

/**
 * An Allocate's attributes (RFC 8656 §7.2), decoded and checked against each other before the handler runs, so
 * that {@code Relay}'s Allocate is left with its rules: quotas, ports, the response. The checks run in the order
 * the RFC's steps give, DONT-FRAGMENT where the sockets cannot set it among them (420, as an unknown attribute);
 * whether the relay has an address of the family asked for is the handler's to judge.
 *
 * @param dontFragment DONT-FRAGMENT was asked for
 * @param token RESERVATION-TOKEN is present (claim a port reserved earlier); {@link #tokenValue} when well-formed
 * @param evenPort EVEN-PORT as asked (never MALFORMED here)
 * @param wantIpv4 an IPv4 relayed address is asked for
 * @param wantIpv6 an IPv6 relayed address is asked for
 * @param dual ADDITIONAL-ADDRESS-FAMILY: IPv4 and IPv6, the IPv6 one optional
 * @param lifetimeSeconds LIFETIME as asked (the default when absent), before the relay's bounds
 * @param tcp REQUESTED-TRANSPORT TCP (RFC 6062): a TCP relayed address
 */
record AllocateAttributes(
        boolean dontFragment,
        boolean token,
        TurnAttributes.EvenPort evenPort,
        boolean wantIpv4,
        boolean wantIpv6,
        boolean dual,
        long lifetimeSeconds,
        boolean tcp) {
    private static final int UDP = 17;
    private static final int TCP = 6;

    /**
     * The attributes of {@code request}, or the refusal they earn (in {@code refusal[0]}, the answer then null);
     * {@code dontFragmentSupported}: whether this relay's sockets can set the DF bit; {@code tcpRelay}: whether
     * TCP relaying is served; {@code stream}: whether the request came over a TCP or TLS connection.
     */
    static AllocateAttributes decode(
            StunMessage request, boolean dontFragmentSupported, boolean tcpRelay, boolean stream, Refused[] refusal) {
        int transport = request.firstByte(StunAttribute.REQUESTED_TRANSPORT);
        if (transport < 0) {
            refusal[0] = Refused.with(ErrorCode.BAD_REQUEST, "no REQUESTED-TRANSPORT");
            return null;
        }
        if (transport == TCP && tcpRelay) {
            return decodeTcp(request, stream, refusal);
        }
        if (transport != UDP) {
            refusal[0] = Refused.with(
                    ErrorCode.UNSUPPORTED_TRANSPORT_PROTOCOL,
                    "REQUESTED-TRANSPORT " + transport + " (expected: 17, UDP)");
            return null;
        }
        boolean dontFragment = request.has(StunAttribute.DONT_FRAGMENT);
        if (dontFragment && !dontFragmentSupported) {
            // RFC 8656 §7.2: without DF support the attribute is treated as unknown (420, UNKNOWN-ATTRIBUTES)
            refusal[0] = Refused.unknownAttributes(
                    new int[] {StunAttribute.DONT_FRAGMENT}, "DONT-FRAGMENT unsupported here");
            return null;
        }
        boolean token = request.has(StunAttribute.RESERVATION_TOKEN);
        TurnAttributes.EvenPort evenPort = TurnAttributes.evenPort(request);
        boolean hasEvenPort = evenPort != TurnAttributes.EvenPort.ABSENT;
        boolean requestedFamily = request.has(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        boolean additionalFamily = request.has(StunAttribute.ADDITIONAL_ADDRESS_FAMILY);
        if (evenPort == TurnAttributes.EvenPort.MALFORMED
                || (token && (hasEvenPort || requestedFamily || additionalFamily))
                || (requestedFamily && additionalFamily)
                || (additionalFamily && evenPort == TurnAttributes.EvenPort.EVEN_AND_RESERVE_NEXT)) {
            refusal[0] = Refused.with(
                    ErrorCode.BAD_REQUEST,
                    "conflicting attributes: RESERVATION-TOKEN with EVEN-PORT or a family, both families, or a malformed EVEN-PORT");
            return null;
        }
        int family = requestedFamily(request, refusal);
        if (family < 0) {
            return null;
        }
        boolean wantIpv4 = family == TurnAttributes.FAMILY_IPV4;
        boolean wantIpv6 = family == TurnAttributes.FAMILY_IPV6;
        if (additionalFamily) {
            if (request.firstByte(StunAttribute.ADDITIONAL_ADDRESS_FAMILY) != TurnAttributes.FAMILY_IPV6) {
                refusal[0] = Refused.with(ErrorCode.BAD_REQUEST, "ADDITIONAL-ADDRESS-FAMILY other than IPv6");
                return null;
            }
            wantIpv6 = true; // RFC 8656 §7.2: dual allocation, IPv4 and IPv6
        }
        return new AllocateAttributes(
                dontFragment,
                token,
                evenPort,
                wantIpv4,
                wantIpv6,
                additionalFamily,
                request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS),
                false);
    }

    /**
     * RFC 6062 §5.1: a TCP allocation is asked for over a connection (400 over UDP or DTLS) and without
     * DONT-FRAGMENT, EVEN-PORT or RESERVATION-TOKEN (400); one family, as REQUESTED-ADDRESS-FAMILY says (a dual
     * allocation is defined for UDP only: 400).
     */
    private static AllocateAttributes decodeTcp(StunMessage request, boolean stream, Refused[] refusal) {
        if (!stream) {
            refusal[0] = Refused.with(ErrorCode.BAD_REQUEST, "REQUESTED-TRANSPORT TCP over UDP or DTLS (RFC 6062)");
            return null;
        }
        if (request.has(StunAttribute.DONT_FRAGMENT)
                || request.has(StunAttribute.EVEN_PORT)
                || request.has(StunAttribute.RESERVATION_TOKEN)
                || request.has(StunAttribute.ADDITIONAL_ADDRESS_FAMILY)) {
            refusal[0] = Refused.with(
                    ErrorCode.BAD_REQUEST,
                    "REQUESTED-TRANSPORT TCP with DONT-FRAGMENT, EVEN-PORT, RESERVATION-TOKEN or"
                            + " ADDITIONAL-ADDRESS-FAMILY (RFC 6062 §5.1)");
            return null;
        }
        int family = requestedFamily(request, refusal);
        if (family < 0) {
            return null;
        }
        boolean ipv6 = family == TurnAttributes.FAMILY_IPV6;
        return new AllocateAttributes(
                false,
                false,
                TurnAttributes.EvenPort.ABSENT,
                !ipv6,
                ipv6,
                false,
                request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS),
                true);
    }

    /**
     * The family REQUESTED-ADDRESS-FAMILY asks for (IPv4 when absent), or -1 with the refusal (440) for another
     * value.
     */
    private static int requestedFamily(StunMessage request, Refused[] refusal) {
        if (!request.has(StunAttribute.REQUESTED_ADDRESS_FAMILY)) {
            return TurnAttributes.FAMILY_IPV4;
        }
        int family = request.firstByte(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        if (family != TurnAttributes.FAMILY_IPV4 && family != TurnAttributes.FAMILY_IPV6) {
            refusal[0] = Refused.with(
                    ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED,
                    "REQUESTED-ADDRESS-FAMILY " + family + " (expected: 1 or 2)");
            return -1;
        }
        return family;
    }

    /** EVEN-PORT with the R bit: an even port, and the next one reserved for a RESERVATION-TOKEN. */
    boolean reserveNext() {
        return evenPort == TurnAttributes.EvenPort.EVEN_AND_RESERVE_NEXT;
    }

    /** EVEN-PORT, with or without R. */
    boolean even() {
        return evenPort != TurnAttributes.EvenPort.ABSENT;
    }
}
