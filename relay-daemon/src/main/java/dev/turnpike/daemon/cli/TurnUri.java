package dev.turnpike.daemon.cli;

import dev.turnpike.daemon.loop.Transport;
import java.util.Locale;

/**
 * A TURN server URI (RFC 7065): {@code turn:HOST[:PORT][?transport=udp|tcp]} or {@code turns:HOST[:PORT]}, where
 * HOST is a name, an IPv4 address or a bracketed IPv6 address. The port defaults to 3478 ({@code turn:}) or 5349
 * ({@code turns:}); {@code turn:} defaults to UDP and {@code turns:} is TLS over TCP (DTLS is not probed yet).
 */
record TurnUri(String host, int port, Transport transport) {
    enum Transport {
        UDP,
        TCP,
        TLS
    }

    /** @throws IllegalArgumentException saying what was expected */
    static TurnUri parse(String uri) {
        String text = uri.strip();
        String lower = text.toLowerCase(Locale.ROOT);
        boolean secure;
        if (lower.startsWith("turns:")) {
            secure = true;
            text = text.substring("turns:".length());
        } else if (lower.startsWith("turn:")) {
            secure = false;
            text = text.substring("turn:".length());
        } else {
            throw bad(uri);
        }
        Transport transport = secure ? Transport.TLS : Transport.UDP;
        int query = text.indexOf('?');
        if (query >= 0) {
            String parameter = text.substring(query + 1).toLowerCase(Locale.ROOT);
            text = text.substring(0, query);
            if (parameter.equals("transport=tcp")) {
                transport = secure ? Transport.TLS : Transport.TCP;
            } else if (!parameter.equals("transport=udp") || secure) {
                throw new IllegalArgumentException("'" + uri + "' (expected: ?transport=udp or ?transport=tcp"
                        + (secure ? "; turns: over UDP is DTLS, which is not probed yet" : "") + ")");
            }
        }
        String host;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw bad(uri);
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw bad(uri);
                }
                port = rest.substring(1);
            }
        } else {
            int colon = text.indexOf(':');
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
        }
        if (host.isEmpty() || host.contains("/") || host.contains("@")) {
            throw bad(uri);
        }
        int number = secure ? 5349 : 3478;
        if (port != null) {
            try {
                number = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw bad(uri);
            }
            if (number < 1 || number > 65_535) {
                throw bad(uri);
            }
        }
        return new TurnUri(host, number, transport);
    }

    private static IllegalArgumentException bad(String uri) {
        return new IllegalArgumentException("'" + uri + "' (expected: turn:HOST[:PORT][?transport=udp|tcp] or "
                + "turns:HOST[:PORT], e.g. turn:relay.example.org:3478 or turns:[::1]:5349)");
    }
}
