package dev.turnpike.daemon.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AdminAccessTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void withoutATokenOnlyLoopbackIsAnswered() throws Exception {
        AdminAccess access = new AdminAccess(null);
        assertThat(access.allows(LOOPBACK, null)).isTrue();
        assertThat(access.allows(ip("::1"), null)).isTrue();
        assertThat(access.allows(ip("10.0.0.5"), null)).isFalse();
        assertThat(access.allows(ip("10.0.0.5"), "Bearer anything")).isFalse();
    }

    @Test
    void withATokenOtherAddressesMustPresentItExactly() throws Exception {
        AdminAccess access = new AdminAccess("s3cret-token");
        assertThat(access.allows(ip("10.0.0.5"), "Bearer s3cret-token")).isTrue();
        assertThat(access.allows(ip("10.0.0.5"), "Bearer s3cret-tokem")).isFalse();
        assertThat(access.allows(ip("10.0.0.5"), "Bearer ")).isFalse();
        assertThat(access.allows(ip("10.0.0.5"), "Basic s3cret-token")).isFalse();
        assertThat(access.allows(ip("10.0.0.5"), null)).isFalse();
        assertThat(access.allows(LOOPBACK, null)).as("loopback needs no token").isTrue();
    }
}
