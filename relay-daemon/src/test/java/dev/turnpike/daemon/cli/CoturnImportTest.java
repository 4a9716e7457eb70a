package dev.turnpike.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** coturn's turnserver.conf told as a Turnpike config file, and what cannot be, each with why. */
class CoturnImportTest {
    @Test
    void theUsualOptionsMapToTheirTurnpikeKeys() {
        CoturnImport.Result r = CoturnImport.read(String.join(
                "\n",
                "# a comment",
                "listening-port=3479",
                "listening-ip=192.0.2.10",
                "listening-ip=2001:db8::10",
                "tls-listening-port=5350",
                "cert=/etc/ssl/turn.pem",
                "pkey=\"/etc/ssl/turn.key\"",
                "relay-ip=192.0.2.10",
                "external-ip=203.0.113.5/192.0.2.10",
                "min-port 40000",
                "max-port=40999",
                "relay-threads=4",
                "realm=example.org",
                "lt-cred-mech",
                "user=alice:wonderland",
                "user=bob:0xbc807ee29df3c9ffa736523fb2c4e8ee",
                "use-auth-secret",
                "static-auth-secret=north",
                "stale-nonce=600",
                "max-allocate-lifetime=3600",
                "total-quota=1000",
                "user-quota=10",
                "max-bps=125000",
                "denied-peer-ip=10.0.0.0-10.255.255.255",
                "denied-peer-ip=172.16.0.5",
                "allowed-peer-ip=192.168.1.0-192.168.1.9",
                "allow-loopback-peers",
                "alternate-server=198.51.100.9",
                "prometheus",
                "fingerprint",
                "Verbose",
                "syslog",
                "no-rfc5780",
                "web-admin",
                "frobnicate=yes"));
        assertThat(r.config())
                .containsExactly(
                        "listen = 192.0.2.10:3479",
                        "listen-tcp = 192.0.2.10:3479",
                        "listen = [2001:db8::10]:3479",
                        "listen-tcp = [2001:db8::10]:3479",
                        "listen-tls = 192.0.2.10:5350",
                        "listen-tls = [2001:db8::10]:5350",
                        "tls-cert = /etc/ssl/turn.pem",
                        "tls-key = /etc/ssl/turn.key",
                        "relay-address = 192.0.2.10",
                        "public-address = 203.0.113.5",
                        "relay-ports = 40000-40999",
                        "workers = 4",
                        "realm = example.org",
                        "user = alice:wonderland",
                        "auth-secret = north",
                        "nonce-lifetime = 600",
                        "max-lifetime = 3600",
                        "max-allocations = 1000",
                        "user-quota = 10",
                        "max-bps = 2000000",
                        "deny-peer = 10.0.0.0/8",
                        "deny-peer = 172.16.0.5/32",
                        "allow-peer = 192.168.1.0/29",
                        "allow-peer = 192.168.1.8/31",
                        "allow-peer = 127.0.0.0/8",
                        "allow-peer = ::1/128",
                        "alternate-server = 198.51.100.9:3478",
                        "metrics-listen = 127.0.0.1:9641",
                        "log-level = debug");
        assertThat(r.notMapped())
                .anyMatch(l -> l.startsWith("user=bob:0x...: a key, not a password"))
                .anyMatch(l -> l.startsWith("max-bps=125000: bytes per second each way in coturn"))
                .anyMatch(l -> l.startsWith("prometheus: served on loopback only"))
                .anyMatch(
                        l -> l.equals("fingerprint: the default: a response carries FINGERPRINT when its request did"))
                .anyMatch(l -> l.startsWith("lt-cred-mech: the default"))
                .anyMatch(l -> l.startsWith("syslog: Turnpike logs to standard output"))
                .anyMatch(l -> l.startsWith("no-rfc5780: nothing to turn off"))
                .anyMatch(l -> l.startsWith("web-admin: no web admin"))
                .anyMatch(l -> l.equals("frobnicate: not a coturn option this importer knows"));
        assertThat(r.text("turnserver.conf")).contains("# frobnicate: not a coturn option this importer knows\n");
    }

    @Test
    void coturnsDefaultsNeedNoLineAndItsSwitchesOffAreHonoured() {
        assertThat(CoturnImport.read("").config())
                .as("3478 on every address, UDP and TCP")
                .containsExactly("listen-tcp = 0.0.0.0:3478");
        assertThat(CoturnImport.read("no-tcp\nno-tls\ncert=/c\npkey=/k\n").config())
                .isEmpty();
        assertThat(CoturnImport.read("cert=/c\n").notMapped()).anyMatch(l -> l.contains("needs both cert and pkey"));
        assertThat(CoturnImport.read("no-udp\n").notMapped()).containsExactly("no-udp: Turnpike always listens on UDP");
        assertThat(CoturnImport.read("no-tcp\nno-tcp-relay\n").config())
                .as("RFC 6062 relaying turned off, as coturn's was")
                .containsExactly("tcp-relay = false");
        assertThat(CoturnImport.read("\n\n# only comments\n   \n").config())
                .containsExactly("listen-tcp = 0.0.0.0:3478");
        assertThat(CoturnImport.read("realm=" + "r".repeat(100_000) + "\n").config())
                .as("a value as long as it comes")
                .contains("realm = " + "r".repeat(100_000));
        assertThat(CoturnImport.read("=\n\"\"\n--\nmax-bps=lots\n").notMapped())
                .as("lines that are no option, and a value that is no number")
                .contains("max-bps=lots: not a number");
    }

    @Test
    void aRangeBecomesTheFewestPrefixesAndABadOneIsSaidNotMapped() throws Exception {
        assertThat(CoturnImport.cidrs("0.0.0.0-255.255.255.255")).containsExactly("0.0.0.0/0");
        assertThat(CoturnImport.cidrs("10.0.0.1-10.0.0.6"))
                .containsExactly("10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32");
        assertThat(CoturnImport.cidrs("2001:db8::-2001:db8::ffff"))
                .hasSize(1)
                .first()
                .asString()
                .endsWith("/112");
        assertThat(CoturnImport.read("denied-peer-ip=10.0.0.9-10.0.0.1\n").notMapped())
                .containsExactly("denied-peer-ip=10.0.0.9-10.0.0.1: a range whose start is after its end");
        assertThat(CoturnImport.read("allowed-peer-ip=10.0.0.1-::1\n").notMapped())
                .containsExactly("allowed-peer-ip=10.0.0.1-::1: a range across address families");
    }
}
