package dev.turnpike.daemon.cli;

import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.daemon.dtls.DtlsSettings;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.stream.HttpsBackend;
import dev.turnpike.daemon.stream.ProxyProtocol;
import dev.turnpike.daemon.stream.StreamLimits;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.slf4j.Logger;

/**
 * The flags checked and turned into the core's configuration. Every refusal is one line naming the flag and
 * what was expected, and exits 2 before anything is bound.
 */
public final class Settings {
    /** Descriptors the process needs besides sockets: selectors, the JDK's own files, logs, the metrics server. */
    static final int RESERVED_DESCRIPTORS = 64;

    private final RelayOptions flags;
    private final Map<String, String> users = new LinkedHashMap<>();
    /** --auth-secret and the secrets of every --auth-secret-file. */
    private final List<String> secrets = new ArrayList<>();

    private int relayPortLow;
    private int relayPortHigh;
    private int workers;
    /** The relayed addresses of each family, and the public addresses that stand for them. */
    private RelayAddresses addresses;

    private final List<Cidr> allow = new ArrayList<>();
    private final List<Cidr> deny = new ArrayList<>();
    private final List<Cidr> proxyFrom = new ArrayList<>();
    private HttpsBackend httpsBackend;

    private Settings(RelayOptions flags) {
        this.flags = flags;
    }

    public static Settings from(RelayOptions flags, List<InetSocketAddress> listen) {
        Settings s = new Settings(flags);
        s.parseRelayPorts();
        s.parseWorkers(Runtime.getRuntime().availableProcessors());
        s.parseUsers();
        if (flags.realm.isBlank()) {
            throw bad("--realm '' (expected: a non-empty realm, e.g. example.org)");
        }
        if (flags.maxLifetime < RelayConfig.DEFAULT_LIFETIME_SECONDS || flags.maxLifetime > 86_400) {
            throw bad("--max-lifetime " + flags.maxLifetime + " (expected: 600..86400 seconds)");
        }
        if (flags.nonceLifetime < 30 || flags.nonceLifetime > 86_400) {
            throw bad("--nonce-lifetime " + flags.nonceLifetime + " (expected: 30..86400 seconds)");
        }
        if (flags.receiveBuffer < 0) {
            throw bad("--receive-buffer " + flags.receiveBuffer + " (expected: 0 or a size in bytes)");
        }
        if (flags.sendBuffer < 0) {
            throw bad("--send-buffer " + flags.sendBuffer + " (expected: 0 or a size in bytes)");
        }
        atLeastZero("--max-allocations", flags.maxAllocations);
        atLeastZero("--user-quota", flags.userQuota);
        atLeastZero("--client-quota", flags.clientQuota);
        atLeastZero("--max-permissions", flags.maxPermissions);
        atLeastZero("--max-channels", flags.maxChannels);
        bitsPerSecond("--max-bps", flags.maxBps);
        bitsPerSecond("--total-bps", flags.totalBps);
        atLeastZero("--challenge-rate", flags.challengeRate);
        if (flags.challengeBurst < 1) {
            throw bad("--challenge-burst " + flags.challengeBurst + " (expected: 1 or more replies)");
        }
        if (flags.maxQueuedBytes < 65_536) {
            throw bad("--max-queued-bytes " + flags.maxQueuedBytes + " (expected: 65536 or more bytes)");
        }
        if (flags.software != null && (flags.software.isBlank() || flags.software.length() > 127)) {
            throw bad("--software '" + flags.software + "' (expected: 1 to 127 characters)");
        }
        if (flags.usageTop < 0 || flags.usageTop > 10_000) {
            throw bad("--usage-top " + flags.usageTop + " (expected: 0..10000 rows)");
        }
        atLeastZero("--max-connections", flags.maxConnections);
        atLeastZero("--connections-per-ip", flags.connectionsPerIp);
        atLeastZero("--tls-handshake-rate", flags.tlsHandshakeRate);
        if (flags.firstMessageTimeout < 1 || flags.firstMessageTimeout > 3_600) {
            throw bad("--first-message-timeout " + flags.firstMessageTimeout + " (expected: 1..3600 seconds)");
        }
        if (flags.maxConnectionQueuedBytes < 65_536) {
            throw bad("--max-connection-queued-bytes " + flags.maxConnectionQueuedBytes
                    + " (expected: 65536 or more bytes)");
        }
        Certificates.check(flags);
        if (flags.drainTimeout < 0 || flags.drainTimeout > 86_400) {
            throw bad("--drain-timeout " + flags.drainTimeout + " (expected: 0..86400 seconds)");
        }
        for (InetSocketAddress proxied : flags.proxyProtocol) {
            if (!flags.listenTcp.contains(proxied) && !flags.listenTls.contains(proxied)) {
                throw bad("--proxy-protocol " + Addresses.format(proxied) + " (expected: the address of a "
                        + "--listen-tcp or --listen-tls listener; over UDP the client's address needs no header)");
            }
        }
        for (String cidr : flags.proxyProtocolFrom) {
            s.proxyFrom.add(cidr("--proxy-protocol-from", cidr));
        }
        for (String cidr : flags.allowPeers) {
            s.allow.add(cidr("--allow-peer", cidr));
        }
        for (String cidr : flags.denyPeers) {
            s.deny.add(cidr("--deny-peer", cidr));
        }
        s.httpsBackend = HttpsBackendFlags.from(flags);
        s.addresses = RelayAddresses.from(flags, listen);
        return s;
    }

    private static void bitsPerSecond(String flag, long value) {
        if (value < 0 || value > RelayConfig.MAX_BPS) {
            throw bad(flag + " " + value + " (expected: 0 for no limit, or up to " + RelayConfig.MAX_BPS
                    + " bits per second)");
        }
    }

    private static void atLeastZero(String flag, long value) {
        if (value < 0) {
            throw bad(flag + " " + value + " (expected: 0 for no limit, or more)");
        }
    }

    /**
     * Refuses a relay that would run out of file descriptors at its busiest ({@link DescriptorBudget}); with
     * --relay-ports and --max-allocations both at their defaults, lowers --max-allocations to what fits instead
     * and answers the line to log about it (else null).
     */
    public String checkDescriptors(int listeners, long limit) {
        long range = relayPortHigh - relayPortLow + 1L;
        int families = (addresses.relayIpv4() != null ? 1 : 0) + (addresses.relayIpv6() != null ? 1 : 0);
        long connections = flags.listenTcp.isEmpty() && flags.listenTls.isEmpty() ? 0 : flags.maxConnections;
        connections *= httpsBackend == null ? 1 : 2; // a connection passed to the web backend holds a second socket
        // each worker binds every listener, and has its selectors (an epoll descriptor each, and the JDK's pipe)
        DescriptorBudget budget = new DescriptorBudget(
                limit, (long) workers * (listeners + 4) + connections + RESERVED_DESCRIPTORS, families);
        // an allocation and its reserved neighbour
        long perFamily = flags.maxAllocations > 0 ? Math.min(range, 2L * flags.maxAllocations) : range;
        boolean defaults = flags.maxAllocations == RelayConfig.DEFAULT_MAX_ALLOCATIONS
                && flags.relayPorts.equals(RelayOptions.DEFAULT_RELAY_PORTS);
        int fit = budget.allocationsThatFit();
        if (!budget.fits(perFamily) && defaults && fit > 0) {
            String note = "the open-files limit (" + limit + ") fits " + fit + " allocations: --max-allocations "
                    + "lowered from " + flags.maxAllocations + " to " + fit + " (raise the limit with ulimit -n, "
                    + "LimitNOFILE= or docker run --ulimit nofile=, or set --max-allocations)";
            flags.maxAllocations = fit;
            return note;
        }
        if (!budget.fits(perFamily)) {
            long needed = budget.needed(perFamily);
            throw bad("--relay-ports " + relayPortLow + "-" + relayPortHigh + " with --max-allocations "
                    + flags.maxAllocations + " needs up to " + needed + " file descriptors but the limit is " + limit
                    + " (expected: raise it with ulimit -n or LimitNOFILE=, or narrow --relay-ports, or lower "
                    + "--max-allocations" + (connections > 0 ? ", or --max-connections" : "") + ")");
        }
        return null;
    }

    private static StartupException bad(String message) {
        return new StartupException(message, 2);
    }

    private static Cidr cidr(String flag, String text) {
        try {
            return Cidr.parse(text.strip());
        } catch (IllegalArgumentException e) {
            throw bad(flag + " " + e.getMessage());
        }
    }

    private void parseRelayPorts() {
        String text = flags.relayPorts.strip();
        int dash = text.indexOf('-');
        try {
            relayPortLow = Integer.parseInt(text.substring(0, dash));
            relayPortHigh = Integer.parseInt(text.substring(dash + 1));
        } catch (RuntimeException e) {
            throw bad("--relay-ports '" + text + "' (expected: LOW-HIGH, e.g. 49152-65535)");
        }
        if (relayPortLow < 1024 || relayPortHigh > 65535 || relayPortLow > relayPortHigh) {
            throw bad("--relay-ports " + text + " (expected: 1024 <= LOW <= HIGH <= 65535)");
        }
    }

    /** --workers: a number, or auto for one per available core; every worker needs relay ports of its own. */
    void parseWorkers(int cores) {
        String text = flags.workers.strip();
        if (text.equalsIgnoreCase("auto")) {
            workers = cores;
        } else {
            try {
                workers = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw bad("--workers '" + text + "' (expected: 1..1024, or auto)");
            }
            if (workers < 1 || workers > 1024) {
                throw bad("--workers " + text + " (expected: 1..1024, or auto)");
            }
        }
        if (workers > relayPortHigh - relayPortLow + 1) {
            throw bad("--workers " + text + " (" + workers + ") with --relay-ports " + relayPortLow + "-"
                    + relayPortHigh + " (expected: at least one relay port per worker)");
        }
    }

    /** Event loops to run: --workers, resolved. */
    public int workers() {
        return workers;
    }

    private void parseUsers() {
        for (String user : flags.users) {
            addUser("--user", user);
        }
        if (flags.usersFile != null) {
            // a relative name is a systemd credential where the service has them, as --auth-secret-file's is
            java.nio.file.Path usersFile = SecretFiles.resolve(flags.usersFile.toString(), System.getenv());
            List<String> lines;
            try {
                lines = Files.readAllLines(usersFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw bad("--users-file " + usersFile + ": cannot read it ("
                        + e.getClass().getSimpleName() + ")");
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    addUser("--users-file " + usersFile + " line " + (i + 1), line);
                }
            }
        }
        for (String secret : flags.authSecrets) {
            if (secret.isEmpty()) {
                throw bad("--auth-secret '' (expected: a non-empty secret)");
            }
        }
        secrets.addAll(flags.authSecrets);
        for (String file : flags.authSecretFiles) {
            secrets.addAll(SecretFiles.read("--auth-secret-file", file, System.getenv()));
        }
    }

    private void addUser(String where, String entry) {
        int colon = entry.indexOf(':');
        if (colon <= 0 || colon == entry.length() - 1) {
            // never echo the entry: it holds a password
            throw bad(where + ": expected NAME:PASSWORD");
        }
        String name = entry.substring(0, colon);
        String password = entry.substring(colon + 1);
        try {
            dev.turnpike.core.auth.SaslPrep.prepare(password);
        } catch (IllegalArgumentException e) {
            throw bad(where + ": the password of '" + name + "' has a character SASLprep refuses");
        }
        users.put(name, password);
    }

    /**
     * One configuration per worker: the same credentials, policy and nonce key (a nonce is good on any worker),
     * each its own share of the relay ports, its own random source, and a share of --total-bps (a worker cannot
     * borrow another's: the data path shares nothing).
     */
    public List<RelayConfig> relayConfigs(Listeners bound) throws SocketException {
        List<RelayConfig> configs = new ArrayList<>(workers);
        SecureRandom seed = new SecureRandom();
        byte[] nonceKey = new byte[32];
        seed.nextBytes(nonceKey);
        RelayConfig.Builder builder = relayConfig(bound).nonceKey(nonceKey);
        for (Listeners.Listener l : bound.all()) {
            if (l.transport() == Listeners.Kind.TCP || l.transport() == Listeners.Kind.TLS) {
                builder.streamListener(l.index()); // RFC 6062 is asked for over these only
            }
        }
        long totalBps = flags.totalBps == 0 ? 0 : Math.max(1, flags.totalBps / workers);
        for (int i = 0; i < workers; i++) {
            configs.add(builder.relayPortShare(i, workers)
                    .bandwidth(flags.maxBps, totalBps)
                    .random(new SplittableRandom(seed.nextLong()))
                    .build());
        }
        return configs;
    }

    private RelayConfig.Builder relayConfig(Listeners bound) throws SocketException {
        Set<InetAddress> own = new HashSet<>(Addresses.localAddresses());
        for (InetAddress ip : new InetAddress[] {
            addresses.relayIpv4(), addresses.relayIpv6(), addresses.publicIpv4(), addresses.publicIpv6()
        }) {
            if (ip != null) {
                own.add(ip);
            }
        }
        for (InetSocketAddress listener : bound.addresses()) {
            own.add(listener.getAddress());
        }
        return RelayConfig.builder(bound.addresses())
                .software(flags.software)
                .quotas(flags.maxAllocations, flags.userQuota, flags.clientQuota)
                .perAllocation(flags.maxPermissions, flags.maxChannels)
                .bandwidth(flags.maxBps, flags.totalBps)
                .challengeRate(flags.challengeRate, flags.challengeBurst)
                .credentials(new Credentials(flags.realm, users, secrets))
                .relayIpv4(addresses.relayIpv4(), addresses.publicIpv4())
                .relayIpv6(addresses.relayIpv6(), addresses.publicIpv6())
                .relayPorts(relayPortLow, relayPortHigh)
                .maxLifetimeSeconds(flags.maxLifetime)
                .nonceLifetimeSeconds(flags.nonceLifetime)
                .rfc5766ChannelNumbers(flags.rfc5766ChannelNumbers)
                .tcpRelay(flags.tcpRelay)
                // the listeners that take datagrams: a peer may use the port of a TCP or TLS listener, which takes none
                .policy(new PeerPolicy(allow, deny, own, datagramListeners(bound)));
    }

    public RelayOptions options() {
        return flags;
    }

    /**
     * The limits on TCP and TLS connections of one worker: --max-connections and --tls-handshake-rate are the
     * process's (descriptors and CPU), so each worker has its share; --connections-per-ip is per worker, since a
     * client's connections are spread by the kernel and a worker knows only its own.
     */
    public StreamLimits streamLimits() {
        return new StreamLimits(
                (int) share(flags.maxConnections),
                flags.connectionsPerIp,
                flags.firstMessageTimeout * 1_000_000_000L,
                flags.maxConnectionQueuedBytes,
                share(flags.tlsHandshakeRate));
    }

    /** One worker's share of a process-wide limit (0: none), rounded up so that no worker gets 0. */
    private long share(long limit) {
        return limit == 0 ? 0 : (limit + workers - 1) / workers;
    }

    /** Where a PROXY v2 load balancer may connect from (which listeners take its header: {@link #listeners}). */
    public ProxyProtocol proxyProtocol() {
        return new ProxyProtocol(List.copyOf(proxyFrom));
    }

    /** The web server behind the TLS port (--https-backend), or null. */
    public HttpsBackend httpsBackend() {
        return httpsBackend;
    }

    /** The listeners: {@code udp} (--listen, or every local address), --listen-tcp, --listen-tls. */
    public Listeners listeners(List<InetSocketAddress> udp) {
        return Listeners.of(udp, flags.listenTcp, flags.listenTls, flags.listenDtls, Set.copyOf(flags.proxyProtocol));
    }

    /** The TLS context of --tls-cert and --tls-key, or null without --listen-tls; one line when they will not do. */
    public javax.net.ssl.SSLContext tlsContext(java.util.Map<String, String> environment) {
        return Certificates.tls(flags, environment);
    }

    /** What the DTLS listeners serve (the same certificate), or null without --listen-dtls. */
    public DtlsSettings dtls(java.util.Map<String, String> environment) {
        return Certificates.dtls(flags, environment);
    }

    private static Set<InetSocketAddress> datagramListeners(Listeners bound) {
        Set<InetSocketAddress> datagrams = new HashSet<>(bound.addresses(Listeners.Kind.UDP));
        datagrams.addAll(bound.addresses(Listeners.Kind.DTLS));
        return Set.copyOf(datagrams);
    }

    /** The users of --user and --users-file, by name: for a reload to tell whether they changed. */
    public Map<String, String> users() {
        return users;
    }

    /** The secrets of --auth-secret and --auth-secret-file: for a reload to tell whether they changed. */
    public List<String> secrets() {
        return secrets;
    }

    /** What an operator wants to see at start-up; secrets and passwords appear only as counts. */
    public void logSummary(Logger log) {
        log.atInfo()
                .addKeyValue("realm", flags.realm)
                .addKeyValue("users", users.size())
                .addKeyValue("authSecrets", secrets.size())
                .addKeyValue(
                        "relayIpv4",
                        addresses.relayIpv4() == null
                                ? "none"
                                : addresses.relayIpv4().getHostAddress())
                .addKeyValue(
                        "relayIpv6", addresses.relayIpv6() == null ? "none" : Addresses.format(addresses.relayIpv6()))
                .addKeyValue("relayPorts", relayPortLow + "-" + relayPortHigh)
                .addKeyValue("workers", workers)
                .addKeyValue("allowPeer", allow.toString())
                .addKeyValue("denyPeer", deny.toString())
                .addKeyValue(
                        "limits",
                        "allocations=" + flags.maxAllocations + " user=" + flags.userQuota + " client="
                                + flags.clientQuota + " permissions=" + flags.maxPermissions + " channels="
                                + flags.maxChannels + " bps=" + flags.maxBps + " totalBps=" + flags.totalBps
                                + " challenges=" + flags.challengeRate + "/s")
                .log("relay configured");
        if (users.isEmpty() && secrets.isEmpty()) {
            log.atWarn()
                    .log(
                            "no --user, --users-file or --auth-secret: every Allocate will be refused (STUN Binding still works)");
        }
        if (addresses.relayIpv4() == null && addresses.relayIpv6() == null) {
            log.atWarn().log("no relay address for either family: every Allocate will be refused with 440");
        }
    }
}
