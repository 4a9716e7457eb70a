package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.TurnAttributes;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** An Allocate's attributes decoded into one record, or the refusal they earn, before any rule of the relay runs. */
class AllocateAttributesTest {
    private final Refused[] refusal = new Refused[1];

    private AllocateAttributes decode(Req request, boolean dontFragmentSupported) {
        return decode(request, dontFragmentSupported, false, false);
    }

    private AllocateAttributes decode(Req request, boolean dontFragmentSupported, boolean tcpRelay, boolean stream) {
        byte[] bytes = request.bytes();
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        refusal[0] = null;
        return AllocateAttributes.decode(message, dontFragmentSupported, tcpRelay, stream, refusal);
    }

    private static Req tcpAllocate() {
        return Req.request(dev.turnpike.core.stun.StunMethod.ALLOCATE).transport(6);
    }

    @Test
    void aTcpAllocationOverAConnectionAsksForOneAddressOfTheFamilyAsked() {
        AllocateAttributes ipv4 = decode(tcpAllocate(), true, true, true);
        assertThat(ipv4.tcp()).isTrue();
        assertThat(ipv4.wantIpv4()).isTrue();
        assertThat(ipv4.wantIpv6()).isFalse();
        AllocateAttributes ipv6 = decode(tcpAllocate().family(TurnAttributes.FAMILY_IPV6), true, true, true);
        assertThat(ipv6.tcp()).isTrue();
        assertThat(ipv6.wantIpv4()).isFalse();
        assertThat(ipv6.wantIpv6()).isTrue();
    }

    @Test
    void aTcpAllocationIsRefusedOverDatagramsWithUdpOnlyAttributesAndWhenTurnedOff() {
        assertThat(decode(tcpAllocate(), true, true, false)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(decode(tcpAllocate().with(w -> w.addEmpty(StunAttribute.DONT_FRAGMENT)), true, true, true))
                .isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(decode(tcpAllocate().with(w -> w.addByteAndReserved(StunAttribute.EVEN_PORT, 0)), true, true, true))
                .isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(decode(
                        tcpAllocate().with(w -> w.addBytes(StunAttribute.RESERVATION_TOKEN, new byte[8])),
                        true,
                        true,
                        true))
                .isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(decode(
                        tcpAllocate().with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2)),
                        true,
                        true,
                        true))
                .isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(decode(tcpAllocate().family(3), true, true, true)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED);
        assertThat(decode(tcpAllocate(), true, false, true)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.UNSUPPORTED_TRANSPORT_PROTOCOL);
    }

    @Test
    void aPlainAllocateAsksForOneIpv4AddressForTheDefaultLifetime() {
        AllocateAttributes asked = decode(Req.allocate(), true);
        assertThat(asked)
                .isEqualTo(new AllocateAttributes(
                        false,
                        false,
                        TurnAttributes.EvenPort.ABSENT,
                        true,
                        false,
                        false,
                        RelayConfig.DEFAULT_LIFETIME_SECONDS,
                        false));
    }

    @Test
    void theFamiliesAsked() {
        AllocateAttributes ipv6 =
                decode(Req.allocate().family(TurnAttributes.FAMILY_IPV6).lifetime(1200), true);
        assertThat(ipv6.wantIpv4()).isFalse();
        assertThat(ipv6.wantIpv6()).isTrue();
        assertThat(ipv6.lifetimeSeconds()).isEqualTo(1200);
        AllocateAttributes dual = decode(
                Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2)), true);
        assertThat(dual.dual()).isTrue();
        assertThat(dual.wantIpv4()).isTrue();
        assertThat(dual.wantIpv6()).isTrue();
    }

    @Test
    void eachRefusalComesWithItsCodeAndInTheRfcsOrder() {
        assertThat(decode(
                        Req.request(dev.turnpike.core.stun.StunMethod.ALLOCATE).transport(6), true))
                .isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.UNSUPPORTED_TRANSPORT_PROTOCOL);

        assertThat(decode(Req.allocate().family(3), true)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED);

        Req both = Req.allocate()
                .family(TurnAttributes.FAMILY_IPV4)
                .with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2));
        assertThat(decode(both, true)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);

        Req dontFragmentAndBoth = both.with(w -> w.addEmpty(StunAttribute.DONT_FRAGMENT));
        assertThat(decode(dontFragmentAndBoth, false)).isNull();
        assertThat(refusal[0].code())
                .as("DONT-FRAGMENT where it cannot be honoured is judged before the conflicts, as before")
                .isEqualTo(ErrorCode.UNKNOWN_ATTRIBUTE);
        assertThat(decode(dontFragmentAndBoth, true)).isNull();
        assertThat(refusal[0].code()).isEqualTo(ErrorCode.BAD_REQUEST);
    }
}
