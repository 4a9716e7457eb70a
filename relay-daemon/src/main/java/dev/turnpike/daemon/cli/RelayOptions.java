package dev.turnpike.daemon.cli;

import ch.qos.logback.classic.Level;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.daemon.log.Logging;
import dev.turnpike.daemon.loop.SocketOptions;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The relay's options, as the command line, the environment ({@code TURNPIKE_*}) and the {@code --config} file
 * give them: plain values that {@link Settings} checks and turns into the core's configuration.
 *
 * <p>Longer than 400 lines, and meant to stay one class: one annotated field per flag, in the order {@code --help}
 * and the man page show them, each with its help text beside it. Split into mixins by theme, the flags would read
 * in one order here and another there, for no change in what any of them does.
 */
public final class RelayOptions {
    /** The IANA dynamic range, as coturn's default. */
    static final String DEFAULT_RELAY_PORTS = "49152-65535";

    @Option(
            names = "--listen",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "Where to listen for STUN/TURN over UDP (TCP: --listen-tcp, TLS: --listen-tls); "
                    + "repeatable. Default: every local address, IPv4 and IPv6, port 3478.")
    public List<InetSocketAddress> listen = new ArrayList<>();

    @Option(
            names = "--listen-tcp",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "Also listen for TURN over TCP here (turn:HOST:3478?transport=tcp), e.g. 0.0.0.0:3478; "
                    + "repeatable. Relaying stays UDP. Default: off.")
    List<InetSocketAddress> listenTcp = new ArrayList<>();

    @Option(
            names = "--listen-tls",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "Also listen for TURN over TLS here (turns:HOST:5349?transport=tcp, or 443 to pass "
                    + "firewalls that let only HTTPS out); needs --tls-cert and --tls-key; repeatable. Default: off.")
    public List<InetSocketAddress> listenTls = new ArrayList<>();

    @Option(
            names = "--listen-dtls",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "Also listen for TURN over DTLS 1.2 here (RFC 7350: native clients that want their TURN "
                    + "to look like other DTLS), e.g. 0.0.0.0:5349 (UDP); needs --tls-cert and --tls-key; repeatable. "
                    + "Default: off.")
    public List<InetSocketAddress> listenDtls = new ArrayList<>();

    @Option(
            names = "--tls-cert",
            paramLabel = "PATH",
            description = "The certificate chain for --listen-tls, PEM (Let's Encrypt's fullchain.pem). Read again on "
                    + "SIGHUP and when the file changes; open connections keep theirs.")
    public String tlsCert;

    @Option(
            names = "--tls-key",
            paramLabel = "PATH",
            description = "Its private key, PEM, unencrypted PKCS#8 or RSA (Let's Encrypt's privkey.pem); a relative "
                    + "name is looked up in $CREDENTIALS_DIRECTORY when set.")
    public String tlsKey;

    @Option(
            names = "--https-backend",
            paramLabel = "ADDR:PORT",
            converter = HostPortConverter.class,
            description = "Share the --listen-tls port with a web site: a connection whose first bytes after the "
                    + "handshake are not a STUN message is passed, byte for byte both ways, to this HTTP/1.1 web "
                    + "server in plain text (TLS ends at the relay). Default: none (such a connection is closed as "
                    + "malformed).")
    InetSocketAddress httpsBackend;

    @Option(
            names = "--https-backend-proxy-protocol",
            description = "Start each connection to --https-backend with a PROXY protocol v2 header naming the real "
                    + "client (nginx: listen ... proxy_protocol). Default: off.")
    boolean httpsBackendProxyProtocol;

    @Option(
            names = "--https-backend-h2",
            paramLabel = "ADDR:PORT",
            converter = HostPortConverter.class,
            description = "Where connections that chose HTTP/2 by ALPN go, in plain HTTP/2 ('prior knowledge': nginx "
                    + "listen ... http2). Only with it is h2 offered; the same address as --https-backend if that "
                    + "port takes both. Default: none (HTTP/1.1 only).")
    InetSocketAddress httpsBackendH2;

    @Option(
            names = "--https-backend-idle-timeout",
            paramLabel = "SECONDS",
            defaultValue = "120",
            description = "A connection passed to --https-backend on which no byte moves either way this long is "
                    + "closed (a backend that accepts and never reads, a client that never reads). 1 to 86400 "
                    + "seconds. Default: ${DEFAULT-VALUE}.")
    long httpsBackendIdleTimeout;

    @Option(
            names = "--proxy-protocol",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "This --listen-tcp or --listen-tls listener is behind a load balancer that sends a PROXY "
                    + "protocol v2 header first (HAProxy, AWS NLB, Envoy): the client it names is the one nonces, "
                    + "quotas and logs see. Every connection there must start with one. Repeatable. Default: none.")
    List<InetSocketAddress> proxyProtocol = new ArrayList<>();

    @Option(
            names = "--proxy-protocol-from",
            paramLabel = "CIDR",
            split = ",",
            defaultValue = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,127.0.0.0/8,fc00::/7,::1/128",
            description = "Where a load balancer may connect to a --proxy-protocol listener from; a connection "
                    + "from elsewhere is refused, since its header could name any client. Repeatable. Default: the "
                    + "private, shared and loopback ranges.")
    List<String> proxyProtocolFrom = new ArrayList<>();

    @Option(
            names = "--realm",
            paramLabel = "REALM",
            defaultValue = "turnpike",
            description = "The long-term credential realm. Default: ${DEFAULT-VALUE}.")
    public String realm;

    @Option(
            names = "--user",
            paramLabel = "NAME:PASSWORD",
            split = ",",
            description = "A user who may allocate; repeatable.")
    public List<String> users = new ArrayList<>();

    @Option(
            names = "--users-file",
            paramLabel = "PATH",
            description = "A file of NAME:PASSWORD lines ('#' starts a comment).")
    Path usersFile;

    @Option(
            names = "--auth-secret",
            paramLabel = "SECRET",
            split = ",",
            description = "A shared secret for time-limited credentials (TURN REST API): username "
                    + "EXPIRY[:name], password base64(HMAC-SHA1(secret, username)); repeatable, for rotation.")
    List<String> authSecrets = new ArrayList<>();

    @Option(
            names = "--auth-secret-file",
            paramLabel = "PATH",
            split = ",",
            description = "Shared secrets as --auth-secret, read from a file (one a line, '#' for comments) so that "
                    + "they show in neither ps nor the environment; a relative name is looked up in systemd's "
                    + "$CREDENTIALS_DIRECTORY when set (LoadCredential=); repeatable.")
    List<String> authSecretFiles = new ArrayList<>();

    @Option(
            names = "--relay-ports",
            paramLabel = "LOW-HIGH",
            defaultValue = DEFAULT_RELAY_PORTS,
            description =
                    "The UDP ports relayed addresses are taken from, within 1024-65535. Default: ${DEFAULT-VALUE}.")
    public String relayPorts;

    @Option(
            names = "--relay-address",
            paramLabel = "IP",
            split = ",",
            description = "The local address relay sockets bind, at most one per family. Default: the listen "
                    + "address when it is a concrete one, else the address of the default route.")
    List<String> relayAddresses = new ArrayList<>();

    @Option(
            names = "--public-address",
            paramLabel = "IP",
            split = ",",
            description = "What XOR-RELAYED-ADDRESS advertises instead of the relay address (behind a 1:1 NAT); "
                    + "at most one per family.")
    List<String> publicAddresses = new ArrayList<>();

    @Option(
            names = "--max-lifetime",
            paramLabel = "SECONDS",
            defaultValue = "3600",
            description = "The longest allocation lifetime granted, 600 to 86400 seconds. Default: ${DEFAULT-VALUE}.")
    public long maxLifetime;

    @Option(
            names = "--nonce-lifetime",
            paramLabel = "SECONDS",
            defaultValue = "600",
            description =
                    "How long a nonce is good for before 438 Stale Nonce, 30 to 86400 seconds. Default: ${DEFAULT-VALUE}.")
    long nonceLifetime;

    @Option(
            names = "--allow-peer",
            paramLabel = "CIDR",
            split = ",",
            description = "Relay to these peers even if in a range refused by default (loopback, private, ...); "
                    + "repeatable; an allow wins over every deny.")
    List<String> allowPeers = new ArrayList<>();

    @Option(
            names = "--deny-peer",
            paramLabel = "CIDR",
            split = ",",
            description = "Refuse these peers too (e.g. a cloud metadata address); repeatable.")
    List<String> denyPeers = new ArrayList<>();

    @Option(
            names = "--tcp-relay",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "RFC 6062 TCP relaying for clients over TCP or TLS: an Allocate for REQUESTED-TRANSPORT TCP, "
                    + "then Connect, ConnectionAttempt and ConnectionBind, bounded like UDP relaying (the peer policy, "
                    + "--max-permissions connections an allocation). --no-tcp-relay answers such an Allocate 442, "
                    + "as coturn's no-tcp-relay. Default: on.")
    boolean tcpRelay;

    @Option(
            names = "--rfc5766-channel-numbers",
            description = "Also accept channel numbers 0x5000-0x7FFF (RFC 5766), for legacy clients.")
    boolean rfc5766ChannelNumbers;

    @Option(
            names = "--max-allocations",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_MAX_ALLOCATIONS,
            description = "Allocations live at once, all users together; over it an Allocate gets 486. 0: no limit. "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxAllocations;

    @Option(
            names = "--user-quota",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_USER_QUOTA,
            description = "Allocations one user holds at once (a time-limited username counts by its name); 486 "
                    + "past it. 0: no limit. Default: ${DEFAULT-VALUE}.")
    int userQuota;

    @Option(
            names = "--client-quota",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_CLIENT_QUOTA,
            description =
                    "Allocations one client IP holds at once; 486 past it. 0: no limit. Default: ${DEFAULT-VALUE}.")
    int clientQuota;

    @Option(
            names = "--max-permissions",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_MAX_PERMISSIONS,
            description = "Peer IPs one allocation may hold permissions for; 508 past it. 0: no limit. "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxPermissions;

    @Option(
            names = "--max-channels",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_MAX_CHANNELS,
            description = "Channels one allocation may bind; 508 past it. 0: no limit. Default: ${DEFAULT-VALUE}.")
    int maxChannels;

    @Option(
            names = "--max-bps",
            paramLabel = "BITS",
            defaultValue = "" + RelayConfig.DEFAULT_MAX_BPS,
            description = "Bits per second one allocation relays, both directions together; the excess is dropped "
                    + "and counted. 0: no limit. Default: ${DEFAULT-VALUE} (a cap drops a legitimate tunnel's "
                    + "excess: set one only where a user's share must be bounded).")
    long maxBps;

    @Option(
            names = "--total-bps",
            paramLabel = "BITS",
            defaultValue = "0",
            description = "Bits per second the whole relay relays; the excess is dropped and counted. 0: no limit. "
                    + "Default: ${DEFAULT-VALUE}.")
    long totalBps;

    @Option(
            names = "--challenge-rate",
            paramLabel = "PER_SECOND",
            defaultValue = "" + RelayConfig.DEFAULT_CHALLENGE_RATE,
            description = "Replies a second to unauthenticated requests (401, 438) per source IP; the rest are "
                    + "dropped and counted. 0: no limit. Default: ${DEFAULT-VALUE}.")
    long challengeRate;

    @Option(
            names = "--challenge-burst",
            paramLabel = "N",
            defaultValue = "" + RelayConfig.DEFAULT_CHALLENGE_BURST,
            description = "How many such replies one source may have at once before --challenge-rate applies; 1 or "
                    + "more. Default: ${DEFAULT-VALUE}.")
    long challengeBurst;

    @Option(
            names = "--max-connections",
            paramLabel = "N",
            defaultValue = "10000",
            description = "TCP and TLS connections open at once; more are closed as they arrive. 0: no limit. "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxConnections;

    @Option(
            names = "--connections-per-ip",
            paramLabel = "N",
            defaultValue = "100",
            description =
                    "TCP and TLS connections one client IP holds at once. 0: no limit. Default: ${DEFAULT-VALUE}.")
    int connectionsPerIp;

    @Option(
            names = "--first-message-timeout",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "How long a new TCP or TLS connection has to send its first STUN message (the TLS handshake "
                    + "included) before it is closed: against idle and slowloris connections. 1 to 3600 seconds. "
                    + "Default: ${DEFAULT-VALUE}.")
    long firstMessageTimeout;

    @Option(
            names = "--max-connection-queued-bytes",
            paramLabel = "BYTES",
            defaultValue = "1048576",
            description = "Bytes waiting for one TCP or TLS client that does not read fast enough; past it the "
                    + "connection is closed (and counted), so one slow client costs only itself. 65536 or more. "
                    + "Default: ${DEFAULT-VALUE}.")
    long maxConnectionQueuedBytes;

    @Option(
            names = "--tls-handshake-rate",
            paramLabel = "PER_SECOND",
            defaultValue = "200",
            description = "TLS connections accepted a second (each costs a handshake's signature on the relay's one "
                    + "thread); more are closed as they arrive. 0: no limit. Default: ${DEFAULT-VALUE}.")
    long tlsHandshakeRate;

    @Option(
            names = "--software",
            paramLabel = "NAME",
            description = "Send a SOFTWARE attribute with this value (1 to 127 characters) in every response. Default: "
                    + "none, so as not to "
                    + "tell an attacker which server and version to try.")
    String software;

    /** When the loop stops reading because packets wait for a full socket buffer. */
    public enum Suspend {
        /** Read on while the queue holds less than --max-queued-bytes: only a slow socket's own packets wait. */
        FLOW,
        /** The seed's design: stop reading as soon as any packet is queued, until every queue has drained. */
        LOOP
    }

    /** What completion offers for --suspend: the modes as they are written, in lower case. */
    static final class SuspendModes extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        SuspendModes() {
            super(List.of("flow", "loop"));
        }
    }

    @Option(
            names = "--suspend",
            paramLabel = "MODE",
            defaultValue = "flow",
            completionCandidates = SuspendModes.class,
            description = "When a full socket buffer stops the loop reading. flow: only at --max-queued-bytes, so one "
                    + "slow peer delays only the packets queued behind it, and only while no other flow is being "
                    + "read (beside others, the flow holding the most queued bytes is shed instead); loop: as soon "
                    + "as anything is queued, the simplest bound, never shedding, but one slow peer delays every "
                    + "client. Default: ${DEFAULT-VALUE}.")
    public Suspend suspend;

    @Option(
            names = "--dscp-preserve",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Relay each datagram with the TOS byte (IPv4) or Traffic Class (IPv6) it arrived with, both "
                    + "ways: DSCP marks (EF, AF41) and ECN (ECT kept, CE never cleared) survive the relay, as through "
                    + "coturn. --no-dscp-preserve sends everything unmarked. Default: on.")
    public boolean dscpPreserve;

    @Option(
            names = "--workers",
            paramLabel = "N",
            defaultValue = "1",
            description = "Event loops, each a thread with its own listening sockets (SO_REUSEPORT: the kernel "
                    + "hashes each client to one), its share of --relay-ports and its own allocations; quotas count "
                    + "across them. 1 to 1024, or auto: one per available core. Default: ${DEFAULT-VALUE}.")
    String workers;

    @Option(
            names = "--max-queued-bytes",
            paramLabel = "BYTES",
            defaultValue = "" + SocketOptions.DEFAULT_MAX_QUEUED_BYTES,
            description = "Bytes waiting for full socket buffers at which, while other flows are being read, the "
                    + "flow holding the most is shed (its newest packets, counted); with that flow alone, the loop "
                    + "stops reading, and holds the rest of a batch it has read, until they drain (--suspend flow, "
                    + "the default; with --suspend loop reading stops as soon as anything waits, and this bounds "
                    + "only a batch). 65536 or more. Default: ${DEFAULT-VALUE}.")
    public long maxQueuedBytes;

    @Option(
            names = "--receive-buffer",
            paramLabel = "BYTES",
            defaultValue = "4194304",
            description = "SO_RCVBUF of every socket (the kernel caps it at net.core.rmem_max); 0 keeps the "
                    + "kernel's default. Default: ${DEFAULT-VALUE}.")
    public int receiveBuffer;

    @Option(
            names = "--send-buffer",
            paramLabel = "BYTES",
            defaultValue = "0",
            description = "SO_SNDBUF of every socket; 0 keeps the kernel's default, which lets a socket block "
                    + "(and Turnpike queue) before the interface's queue would drop. Default: ${DEFAULT-VALUE}.")
    public int sendBuffer;

    @Option(
            names = "--metrics-listen",
            paramLabel = "ADDR:PORT",
            converter = HostPortConverter.class,
            description = "Serve GET /metrics (Prometheus text) and GET /healthz over HTTP here, e.g. 127.0.0.1:9641. "
                    + "Default: off. The counters reveal traffic volumes: keep it on a private address.")
    public InetSocketAddress metricsListen;

    @Option(
            names = "--admin-token-file",
            paramLabel = "PATH",
            description = "A file holding a token (its first line) that admin endpoints such as GET /allocations "
                    + "accept as 'Authorization: Bearer TOKEN' from other than loopback; without it they answer on "
                    + "loopback only. A relative name is looked up in $CREDENTIALS_DIRECTORY when set.")
    public String adminTokenFile;

    @Option(
            names = "--usage-top",
            paramLabel = "N",
            defaultValue = "100",
            description = "GET /usage keeps usage (bytes, packets, allocation-seconds) by tag and by name for the N "
                    + "that used the most bytes of each, the rest summed in an 'other' row. Default: ${DEFAULT-VALUE}.")
    public int usageTop;

    @Option(
            names = "--state-dir",
            paramLabel = "PATH",
            description = "A directory for what the relay keeps across restarts: the credentials revoked with "
                    + "'turnpike admin revoke' (file 'revocations'). Default: $STATE_DIRECTORY when systemd sets it "
                    + "(StateDirectory=), else none: revocations then last as long as the process.")
    public java.nio.file.Path stateDir;

    @Option(
            names = "--drain-timeout",
            paramLabel = "SECONDS",
            defaultValue = "30",
            description = "On SIGTERM (or POST /drain), stop taking new allocations and keep relaying for the "
                    + "existing ones until they end or this many seconds pass, then exit 0; a second SIGTERM exits "
                    + "at once. 0 to 86400 seconds; 0: exit at once. Default: ${DEFAULT-VALUE}.")
    public long drainTimeout;

    @Option(
            names = "--alternate-server",
            paramLabel = "ADDR:PORT",
            split = ",",
            converter = HostPortConverter.class,
            description = "While draining, answer a new Allocate with 300 Try Alternate naming this relay (the first "
                    + "of the client's address family); without one, 508. Repeatable.")
    public List<InetSocketAddress> alternateServers = new ArrayList<>();

    @Option(
            names = "--ready-while-draining",
            description = "Keep GET /readyz answering 200 while draining. Behind a Kubernetes UDP Service a failing "
                    + "readiness makes kube-proxy drop the conntrack entries of live calls, so set it there; where "
                    + "readiness steers DNS or a load balancer, leave it off.")
    public boolean readyWhileDraining;

    @Option(
            names = "--benchmark-plain-receive",
            hidden = true,
            description = "Benchmark-only: receive one datagram per call even where recvmmsg is available.")
    public boolean benchmarkPlainReceive;

    @Option(
            names = "--benchmark-drop-when-full",
            hidden = true,
            description = "Benchmark-only: drop instead of queueing when a send buffer is full.")
    public boolean benchmarkDropWhenFull;

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            defaultValue = "info",
            description = "error, warn, info, debug or trace. Default: ${DEFAULT-VALUE}.")
    public LogLevel logLevel;

    @Option(
            names = "--log-format",
            paramLabel = "FORMAT",
            defaultValue = "text",
            description = "text, or json: one JSON object a line. Default: ${DEFAULT-VALUE}.")
    public Logging.Format logFormat;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "A properties file of option names and values (listen = 127.0.0.1:3478).")
    String config;

    public enum LogLevel {
        error(Level.ERROR),
        warn(Level.WARN),
        info(Level.INFO),
        debug(Level.DEBUG),
        trace(Level.TRACE);

        public final Level level;

        LogLevel(Level level) {
            this.level = level;
        }
    }

    /** host:port, [v6]:port. */
    static final class HostPortConverter implements CommandLine.ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            try {
                return Addresses.parseHostPort(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
