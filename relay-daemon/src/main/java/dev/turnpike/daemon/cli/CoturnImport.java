package dev.turnpike.daemon.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A coturn {@code turnserver.conf} read as coturn reads it ({@code name}, {@code name=value} or {@code name value}
 * a line, {@code #} comments, values in quotes allowed) and told as a Turnpike config file: the equivalent keys, and
 * a comment line for every option it cannot map, saying why (docs/coturn.md has the same table for a person).
 * Nothing here touches the network or the disk.
 */
final class CoturnImport {
    /** The Turnpike config lines, in order; and the options left out, one line each with why. */
    record Result(List<String> config, List<String> notMapped) {
        /** The config file: a header, the keys, then the options not mapped as comments. */
        String text(String source) {
            StringBuilder b = new StringBuilder("# Turnpike configuration imported from coturn's ")
                    .append(source)
                    .append("\n# Read it before use: docs/coturn.md explains each mapping and the traps.\n");
            config.forEach(line -> b.append(line).append('\n'));
            if (!notMapped.isEmpty()) {
                b.append("\n# coturn options not mapped:\n");
                notMapped.forEach(line -> b.append("# ").append(line).append('\n'));
            }
            return b.toString();
        }
    }

    /** Options that need nothing: Turnpike does it so already, or it has no meaning here. Option: why. */
    private static final Map<String, String> ALREADY = Map.ofEntries(
            Map.entry("fingerprint", "the default: a response carries FINGERPRINT when its request did"),
            Map.entry(
                    "lt-cred-mech", "the default: the long-term mechanism is on whenever there is a user or a secret"),
            Map.entry("no-loopback-peers", "the default: loopback peers are refused unless --allow-peer"),
            Map.entry("no-multicast-peers", "the default: multicast peers are refused"),
            Map.entry("no-stun-backward-compatibility", "the default: only RFC 5389/8489 STUN is answered"),
            Map.entry("no-software-attribute", "the default: no SOFTWARE attribute unless --software"),
            Map.entry("no-cli", "the default: there is no telnet CLI (turnpike admin instead)"),
            Map.entry("no-dtls", "the default: DTLS is not supported yet"),
            Map.entry("no-tlsv1", "the default: TLS 1.2 and 1.3 only"),
            Map.entry("no-tlsv1_1", "the default: TLS 1.2 and 1.3 only"),
            Map.entry("syslog", "Turnpike logs to standard output (journald under systemd)"),
            Map.entry("simple-log", "Turnpike logs to standard output (journald under systemd)"),
            Map.entry("no-stdout-log", "Turnpike logs to standard output (journald under systemd)"),
            Map.entry("log-file", "Turnpike logs to standard output (journald under systemd)"),
            Map.entry("new-log-timestamp", "Turnpike's lines carry an ISO-8601 time"),
            Map.entry("new-log-timestamp-format", "Turnpike's lines carry an ISO-8601 time"),
            Map.entry("log-binding", "Binding requests are not logged"),
            Map.entry("pidfile", "the systemd unit tracks the process (Type=notify)"),
            Map.entry("proc-user", "the systemd unit runs it as a dynamic user"),
            Map.entry("proc-group", "the systemd unit runs it as a dynamic user"),
            Map.entry("keep-address-family", "the default: an Allocate gets the family asked for (RFC 8656)"),
            Map.entry("permission-lifetime", "the RFC's 300 s, not settable"),
            Map.entry("channel-lifetime", "the RFC's 600 s, not settable"),
            Map.entry("cipher-list", "the JDK's defaults (TLS 1.2 and 1.3)"),
            Map.entry("ec-curve-name", "the JDK's defaults"),
            Map.entry("dh-file", "the JDK's defaults"),
            Map.entry("dh566", "the JDK's defaults"),
            Map.entry("dh1066", "the JDK's defaults"));

    /** Options Turnpike has no equivalent of. Option: why. */
    private static final Map<String, String> UNSUPPORTED = Map.ofEntries(
            Map.entry("no-udp", "Turnpike always listens on UDP"),
            Map.entry("no-udp-relay", "the relayed side is UDP"),
            Map.entry("dtls-listening-port", "DTLS is not supported yet"),
            Map.entry("rfc5780", "NAT behaviour discovery (RFC 5780) is not supported"),
            Map.entry("no-rfc5780", "nothing to turn off: RFC 5780 is not supported"),
            Map.entry("response-origin-only-with-rfc5780", "nothing to turn off: RFC 5780 is not supported"),
            Map.entry("secure-stun", "Binding is always answered, unauthenticated"),
            Map.entry("no-stun", "Binding is always answered"),
            Map.entry("stun-only", "Turnpike is a TURN relay first"),
            Map.entry("no-auth", "every TURN request is authenticated"),
            Map.entry("userdb", "no user database: --user, --users-file or --auth-secret-file"),
            Map.entry("psql-userdb", "no user database: --user, --users-file or --auth-secret-file"),
            Map.entry("mysql-userdb", "no user database: --user, --users-file or --auth-secret-file"),
            Map.entry("mongo-userdb", "no user database: --user, --users-file or --auth-secret-file"),
            Map.entry("redis-userdb", "no user database: --user, --users-file or --auth-secret-file"),
            Map.entry("redis-statsdb", "usage is in GET /usage and the allocation lines, metrics in /metrics"),
            Map.entry("secret-key-file", "no user database to encrypt"),
            Map.entry("oauth", "OAuth third-party authorization is not supported"),
            Map.entry("mobility", "RFC 8016 mobility is not supported"),
            Map.entry("check-origin-consistency", "not supported"),
            Map.entry("rest-api-separator", "only ':' separates a time-limited username's fields"),
            Map.entry("server-relay", "not supported"),
            Map.entry("udp-self-balance", "use --workers (SO_REUSEPORT spreads clients)"),
            Map.entry("aux-server", "not supported"),
            Map.entry("tls-alternate-server", "--alternate-server names one address for every transport"),
            Map.entry("listening-device", "bind to addresses (--listen), not devices"),
            Map.entry("relay-device", "bind to addresses (--relay-address), not devices"),
            Map.entry("cli-ip", "no telnet CLI: turnpike admin talks to the admin endpoints of --metrics-listen"),
            Map.entry("cli-port", "no telnet CLI: turnpike admin talks to the admin endpoints of --metrics-listen"),
            Map.entry("cli-password", "no telnet CLI: turnpike admin; from elsewhere, --admin-token-file"),
            Map.entry("cli-max-output-sessions", "no telnet CLI"),
            Map.entry("web-admin", "no web admin: GET /allocations, /usage, turnpike admin"),
            Map.entry("web-admin-ip", "no web admin: GET /allocations, /usage, turnpike admin"),
            Map.entry("web-admin-port", "no web admin: GET /allocations, /usage, turnpike admin"),
            Map.entry("web-admin-listen-on-workers", "no web admin"),
            Map.entry("acme-redirect", "no ACME redirect: renewed certificates are picked up on reload"),
            Map.entry("tcp-proxy-port", "use --proxy-protocol on a --listen-tcp or --listen-tls listener"),
            Map.entry("allocation-default-address-family", "an Allocate without a family gets IPv4, as RFC 8656 says"),
            Map.entry("max-allocate-timeout", "not settable"),
            Map.entry("pkey-pwd", "the key must not be encrypted (a systemd credential keeps it private)"),
            Map.entry("syslog-facility", "Turnpike logs to standard output"),
            Map.entry("no-tlsv1_2", "TLS 1.2 stays on: browsers and coturn's clients use it"),
            Map.entry("sock-buf-size", "--receive-buffer and --send-buffer"));

    private CoturnImport() {}

    /** Reads {@code text}, a turnserver.conf, and maps it. */
    static Result read(String text) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        List<String> notMapped = new ArrayList<>();
        for (String raw : text.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int sep = indexOfSeparator(line);
            String name = (sep < 0 ? line : line.substring(0, sep)).strip();
            name = name.startsWith("--") ? name.substring(2) : name;
            String value = sep < 0 ? "" : unquote(line.substring(sep + 1).strip());
            options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        List<String> config = new ArrayList<>();
        Mapper m = new Mapper(options, config, notMapped);
        m.map();
        return new Result(List.copyOf(config), List.copyOf(notMapped));
    }

    private static int indexOfSeparator(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '=' || c == ' ' || c == '\t') {
                return i;
            }
        }
        return -1;
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1)
                : value;
    }

    /** One file's mapping: takes options as it maps them, so that what is left is said to be unknown. */
    private static final class Mapper {
        private final Map<String, List<String>> options;
        private final List<String> config;
        private final List<String> notMapped;

        Mapper(Map<String, List<String>> options, List<String> config, List<String> notMapped) {
            this.options = options;
            this.config = config;
            this.notMapped = notMapped;
        }

        private List<String> take(String name) {
            List<String> values = options.remove(name);
            return values == null ? List.of() : values;
        }

        private String takeOne(String name) {
            List<String> values = take(name);
            return values.isEmpty() ? null : values.get(values.size() - 1);
        }

        private boolean flag(String name) {
            return !take(name).isEmpty();
        }

        private void put(String key, String value) {
            config.add(key + " = " + value);
        }

        void map() {
            listeners();
            for (String ip : take("relay-ip")) {
                put("relay-address", ip);
            }
            for (String external : take("external-ip")) {
                int slash = external.indexOf('/');
                put("public-address", slash < 0 ? external : external.substring(0, slash));
                if (slash >= 0 && !config.contains("relay-address = " + external.substring(slash + 1))) {
                    put("relay-address", external.substring(slash + 1));
                }
            }
            String min = takeOne("min-port");
            String max = takeOne("max-port");
            if (min != null || max != null) {
                put("relay-ports", (min == null ? "49152" : min) + "-" + (max == null ? "65535" : max));
            }
            String threads = takeOne("relay-threads");
            take("general-threads");
            if (threads != null && !threads.equals("0")) {
                put("workers", threads);
            }
            copy("realm", "realm");
            for (String user : take("user")) {
                int colon = user.indexOf(':');
                if (colon > 0 && user.substring(colon + 1).startsWith("0x")) {
                    notMapped.add("user=" + user.substring(0, colon)
                            + ":0x...: a key, not a password; Turnpike needs the password (--user NAME:PASSWORD)");
                } else {
                    put("user", user);
                }
            }
            boolean secrets = flag("use-auth-secret");
            for (String secret : take("static-auth-secret")) {
                put("auth-secret", secret);
                secrets = false;
            }
            if (secrets) {
                notMapped.add("use-auth-secret without static-auth-secret: give the secret with auth-secret-file");
            }
            copy("stale-nonce", "nonce-lifetime");
            copy("max-allocate-lifetime", "max-lifetime");
            copy("total-quota", "max-allocations");
            copy("user-quota", "user-quota");
            bandwidth("max-bps", "max-bps");
            bandwidth("bps-capacity", "total-bps");
            peers("denied-peer-ip", "deny-peer");
            peers("allowed-peer-ip", "allow-peer");
            if (flag("allow-loopback-peers")) {
                put("allow-peer", "127.0.0.0/8");
                put("allow-peer", "::1/128");
            }
            for (String alternate : take("alternate-server")) {
                put(
                        "alternate-server",
                        alternate.contains(":") || alternate.contains("]") ? alternate : alternate + ":3478");
            }
            String serverName = takeOne("server-name");
            if (serverName != null) {
                notMapped.add("server-name=" + serverName + ": no SOFTWARE attribute unless --software");
            }
            boolean prometheus = flag("prometheus");
            String prometheusPort = takeOne("prometheus-port");
            if (prometheus) {
                put("metrics-listen", "127.0.0.1:" + (prometheusPort == null ? "9641" : prometheusPort));
                notMapped.add(
                        "prometheus: served on loopback only (coturn: every address); set metrics-listen to widen it");
            }
            if (flag("no-tcp-relay")) {
                put("tcp-relay", "false");
            }
            if (flag("verbose") | flag("Verbose")) {
                put("log-level", "debug");
            }
            for (Map.Entry<String, List<String>> left : options.entrySet()) {
                String name = left.getKey();
                String why = ALREADY.containsKey(name)
                        ? ALREADY.get(name)
                        : UNSUPPORTED.getOrDefault(name, "not a coturn option this importer knows");
                notMapped.add(name + ": " + why);
            }
        }

        /** listening-ip x listening-port for UDP and TCP (unless no-tcp); TLS on tls-listening-port with cert and pkey. */
        private void listeners() {
            List<String> ips = new ArrayList<>(take("listening-ip"));
            String port = takeOne("listening-port");
            String tlsPort = takeOne("tls-listening-port");
            List<String> alt = take("alt-listening-port");
            List<String> altTls = take("alt-tls-listening-port");
            boolean noTcp = flag("no-tcp");
            boolean noTls = flag("no-tls");
            String cert = takeOne("cert");
            String key = takeOne("pkey");
            List<String> ports = new ArrayList<>();
            ports.add(port == null ? "3478" : port);
            ports.addAll(alt);
            List<String> hosts = ips.isEmpty() ? List.of("0.0.0.0") : ips;
            for (String p : ports) {
                for (String ip : hosts) {
                    if (!ips.isEmpty() || !p.equals("3478")) {
                        put("listen", address(ip, p)); // else Turnpike's default: port 3478 of every local address
                    }
                    if (!noTcp) {
                        put("listen-tcp", address(ip, p));
                    }
                }
            }
            if (cert != null && key != null && !noTls) {
                List<String> tlsPorts = new ArrayList<>();
                tlsPorts.add(tlsPort == null ? "5349" : tlsPort);
                tlsPorts.addAll(altTls);
                for (String p : tlsPorts) {
                    for (String ip : hosts) {
                        put("listen-tls", address(ip, p));
                    }
                }
                put("tls-cert", cert);
                put("tls-key", key);
            } else if (!noTls && (cert != null || key != null || tlsPort != null)) {
                notMapped.add("tls-listening-port, cert, pkey: TLS needs both cert and pkey; not listening on TLS");
            }
        }

        private static String address(String ip, String port) {
            return ip.contains(":") ? "[" + ip + "]:" + port : ip + ":" + port;
        }

        private void copy(String coturn, String turnpike) {
            String value = takeOne(coturn);
            if (value != null && !value.isEmpty()) {
                put(turnpike, value);
            }
        }

        /** coturn's bytes per second, each direction apart, to Turnpike's bits per second, both together. */
        private void bandwidth(String coturn, String turnpike) {
            String value = takeOne(coturn);
            if (value == null || value.isEmpty() || value.equals("0")) {
                return;
            }
            try {
                put(turnpike, Long.toString(Math.multiplyExact(Long.parseLong(value), 16)));
                notMapped.add(coturn + "=" + value + ": bytes per second each way in coturn; " + turnpike
                        + " is bits per second both ways: set to 16 times it (docs/coturn.md, the traps)");
            } catch (NumberFormatException | ArithmeticException e) {
                notMapped.add(coturn + "=" + value + ": not a number");
            }
        }

        /** An address, a CIDR or a range a-b, as CIDR prefixes. */
        private void peers(String coturn, String turnpike) {
            for (String value : take(coturn)) {
                try {
                    for (String cidr : cidrs(value)) {
                        put(turnpike, cidr);
                    }
                } catch (IllegalArgumentException | UnknownHostException e) {
                    notMapped.add(coturn + "=" + value + ": " + e.getMessage());
                }
            }
        }
    }

    /** {@code value}: an address, a prefix, or coturn's range {@code a-b}, as the fewest CIDR prefixes covering it. */
    static List<String> cidrs(String value) throws UnknownHostException {
        if (value.contains("/")) {
            return List.of(value);
        }
        int dash = value.indexOf('-');
        byte[] low = InetAddress.getByName(
                        dash < 0 ? value : value.substring(0, dash).strip())
                .getAddress();
        byte[] high = dash < 0
                ? low
                : InetAddress.getByName(value.substring(dash + 1).strip()).getAddress();
        if (low.length != high.length) {
            throw new IllegalArgumentException("a range across address families");
        }
        java.math.BigInteger from = new java.math.BigInteger(1, low);
        java.math.BigInteger to = new java.math.BigInteger(1, high);
        if (from.compareTo(to) > 0) {
            throw new IllegalArgumentException("a range whose start is after its end");
        }
        int bits = low.length * 8;
        List<String> out = new ArrayList<>();
        while (from.compareTo(to) <= 0) {
            int size = from.signum() == 0 ? bits : Math.min(bits, from.getLowestSetBit());
            while (size > 0
                    && from.add(java.math.BigInteger.ONE.shiftLeft(size))
                                    .subtract(java.math.BigInteger.ONE)
                                    .compareTo(to)
                            > 0) {
                size--;
            }
            byte[] address = from.toByteArray();
            byte[] fixed = new byte[low.length];
            int n = Math.min(address.length, fixed.length);
            System.arraycopy(address, address.length - n, fixed, fixed.length - n, n);
            out.add(InetAddress.getByAddress(fixed).getHostAddress() + "/" + (bits - size));
            from = from.add(java.math.BigInteger.ONE.shiftLeft(size));
        }
        return out;
    }
}
