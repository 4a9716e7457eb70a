package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The control messages a TOS byte comes in, as the kernel lays them out, and as it never would. */
class TrafficClassTest {
    private final MemorySegment control = Arena.ofAuto().allocate(64, 8);

    private void cmsg(long at, long length, int level, int type) {
        control.set(ValueLayout.JAVA_LONG, at, length);
        control.set(ValueLayout.JAVA_INT, at + 8, level);
        control.set(ValueLayout.JAVA_INT, at + 12, type);
    }

    @Test
    void anIpv4TosByteAndAnIpv6TrafficClassAreRead() {
        cmsg(0, 17, TrafficClass.SOL_IP, TrafficClass.IP_TOS);
        control.set(ValueLayout.JAVA_BYTE, 16, (byte) 0xBB);
        assertThat(ControlMessages.trafficClass(control, 0, 24)).isEqualTo(0xBB);

        cmsg(0, 20, TrafficClass.IPPROTO_IPV6, TrafficClass.IPV6_TCLASS);
        control.set(ValueLayout.JAVA_INT, 16, 0x88);
        assertThat(ControlMessages.trafficClass(control, 0, 24)).isEqualTo(0x88);
    }

    @Test
    void theByteIsFoundAfterAnotherMessage() {
        cmsg(0, 20, TrafficClass.SOL_IP, 8); // IP_PKTINFO-like, of no interest here
        cmsg(24, 17, TrafficClass.SOL_IP, TrafficClass.IP_TOS);
        control.set(ValueLayout.JAVA_BYTE, 40, (byte) 0xB8);
        assertThat(ControlMessages.trafficClass(control, 0, 48)).isEqualTo(0xB8);
    }

    @Test
    void noMessagesOrMessagesThatDoNotHoldTogetherGiveNone() {
        assertThat(ControlMessages.trafficClass(control, 0, 0)).as("empty").isEqualTo(-1);
        cmsg(0, 16, TrafficClass.SOL_IP, TrafficClass.IP_TOS);
        assertThat(ControlMessages.trafficClass(control, 0, 24))
                .as("no room for the byte")
                .isEqualTo(-1);
        cmsg(0, 200, TrafficClass.SOL_IP, TrafficClass.IP_TOS);
        assertThat(ControlMessages.trafficClass(control, 0, 64))
                .as("longer than the control data")
                .isEqualTo(-1);
        cmsg(0, 17, TrafficClass.SOL_IP, TrafficClass.IP_TOS);
        assertThat(ControlMessages.trafficClass(control, 0, 16)).as("cut short").isEqualTo(-1);
        cmsg(0, 17, TrafficClass.IPPROTO_IPV6, TrafficClass.IPV6_TCLASS);
        assertThat(ControlMessages.trafficClass(control, 0, 24))
                .as("a Traffic Class without its int")
                .isEqualTo(-1);
    }
}
