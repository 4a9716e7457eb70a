package dev.turnpike.core;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.PeerPolicy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** What the core needs to know about its setting; the daemon builds it from flags, tests by hand. */
public final class RelayConfig {
    public static final long DEFAULT_LIFETIME_SECONDS = 600;

    // Limits, on by default and sized for a real server; 0 turns one off. What each costs a legitimate user is
    // in docs/security.md.
    /** Allocations live at once, all users together. */
    public static final int DEFAULT_MAX_ALLOCATIONS = 10_000;
    /** Allocations one user holds at once (a REST username counts by its name after the expiry). */
    public static final int DEFAULT_USER_QUOTA = 100;
    /** Allocations one client IP holds at once (a NAT may hide several users behind it). */
    public static final int DEFAULT_CLIENT_QUOTA = 100;
    /** Permissions (peer IPs) one allocation holds; a WebRTC session uses a handful. */
    public static final int DEFAULT_MAX_PERMISSIONS = 64;
    /** Channels one allocation binds. */
    public static final int DEFAULT_MAX_CHANNELS = 64;
    /**
     * Bits per second one allocation relays, both directions together: 0, no limit. One allocation may carry a
     * whole VPN user's traffic, and a cap the operator did not choose drops a legitimate tunnel's excess (coturn's
     * default is no cap too). What protects the relay instead: quotas, the challenge rate, and the send queue,
     * which sheds only the flow holding the most queued bytes when others need to be read.
     */
    public static final long DEFAULT_MAX_BPS = 0;
    /** The highest --max-bps or --total-bps: 64 Gbit/s keeps a one-second bucket's arithmetic within a long. */
    public static final long MAX_BPS = 64_000_000_000L;
    /** Replies per second to unauthenticated requests from one source IP, and the burst allowed. */
    public static final long DEFAULT_CHALLENGE_RATE = 10;

    public static final long DEFAULT_CHALLENGE_BURST = 20;

    final List<InetSocketAddress> listeners;
    final String software;
    final Credentials credentials;
    final InetAddress relayIpv4;
    final InetAddress relayIpv6;
    final InetAddress publicIpv4;
    final InetAddress publicIpv6;
    final int relayPortLow;
    final int relayPortHigh;
    /** Which share of the relay ports this relay hands out, and of how many (workers): 0 of 1 alone. */
    final int portShare;

    final int portShares;
    final long maxLifetimeSeconds;
    final long nonceLifetimeSeconds;
    final boolean rfc5766ChannelNumbers;
    final PeerPolicy policy;
    final byte[] nonceKey;
    final RandomGenerator random;
    final int maxAllocations;
    final int userQuota;
    final int clientQuota;
    final int maxPermissions;
    final int maxChannels;
    final long maxBps;
    final long totalBps;
    final long challengeRate;
    final long challengeBurst;
    /** RFC 6062: Allocate with REQUESTED-TRANSPORT TCP is served (from a TCP or TLS listener); else 442. */
    final boolean tcpRelay;
    /** The listeners whose clients arrive on a TCP or TLS connection: only they may ask for TCP relaying. */
    final java.util.BitSet streamListeners;

    private RelayConfig(Builder b) {
        this.listeners = List.copyOf(b.listeners);
        this.software = b.software;
        this.credentials = b.credentials;
        this.relayIpv4 = b.relayIpv4;
        this.relayIpv6 = b.relayIpv6;
        this.publicIpv4 = b.publicIpv4;
        this.publicIpv6 = b.publicIpv6;
        this.relayPortLow = b.relayPortLow;
        this.relayPortHigh = b.relayPortHigh;
        this.portShare = b.portShare;
        this.portShares = b.portShares;
        if (portShares < 1 || portShare < 0 || portShare >= portShares) {
            throw new IllegalArgumentException("port share " + portShare + " of " + portShares);
        }
        if (portShares > relayPortHigh - relayPortLow + 1) {
            throw new IllegalArgumentException("fewer relay ports than shares: " + portShares);
        }
        this.maxLifetimeSeconds = b.maxLifetimeSeconds;
        this.nonceLifetimeSeconds = b.nonceLifetimeSeconds;
        this.rfc5766ChannelNumbers = b.rfc5766ChannelNumbers;
        this.policy =
                b.policy != null ? b.policy : new PeerPolicy(List.of(), List.of(), Set.of(), Set.copyOf(b.listeners));
        this.nonceKey = b.nonceKey.clone();
        this.random = b.random;
        this.maxAllocations = b.maxAllocations;
        this.userQuota = b.userQuota;
        this.clientQuota = b.clientQuota;
        this.maxPermissions = b.maxPermissions;
        this.maxChannels = b.maxChannels;
        this.maxBps = b.maxBps;
        this.totalBps = b.totalBps;
        this.challengeRate = b.challengeRate;
        this.challengeBurst = b.challengeBurst;
        this.tcpRelay = b.tcpRelay;
        this.streamListeners = (java.util.BitSet) b.streamListeners.clone();
    }

    /** Whether listener {@code index} takes clients over TCP or TLS (a connection, not datagrams). */
    boolean isStream(int index) {
        return streamListeners.get(index);
    }

    /** The lowest relay port this relay hands out: the start of its share of the range. */
    int poolLow() {
        return relayPortLow + (int) ((long) (relayPortHigh - relayPortLow + 1) * portShare / portShares);
    }

    /** The highest relay port this relay hands out: shares are contiguous, and together cover the range. */
    int poolHigh() {
        return relayPortLow + (int) ((long) (relayPortHigh - relayPortLow + 1) * (portShare + 1) / portShares) - 1;
    }

    /** RFC 8656 §7.2, §7.3: the lifetime asked for, at most the maximum and at least the default. */
    long grantedLifetime(long requestedSeconds) {
        return Math.min(
                Math.max(DEFAULT_LIFETIME_SECONDS, Math.min(requestedSeconds, maxLifetimeSeconds)), maxLifetimeSeconds);
    }

    /**
     * The names of what differs between this and {@code next} among what only a restart can change: what binds
     * sockets or is written into allocations. Empty when {@code next} can replace this in a running relay.
     */
    public List<String> restartOnlyDifferences(RelayConfig next) {
        List<String> names = new java.util.ArrayList<>();
        if (!listeners.equals(next.listeners)) {
            names.add("listeners");
        }
        if (!java.util.Objects.equals(relayIpv4, next.relayIpv4)
                || !java.util.Objects.equals(relayIpv6, next.relayIpv6)) {
            names.add("relay addresses");
        }
        if (!java.util.Objects.equals(publicIpv4, next.publicIpv4)
                || !java.util.Objects.equals(publicIpv6, next.publicIpv6)) {
            names.add("public addresses");
        }
        if (relayPortLow != next.relayPortLow
                || relayPortHigh != next.relayPortHigh
                || portShare != next.portShare
                || portShares != next.portShares) {
            names.add("relay ports");
        }
        return names;
    }

    public static Builder builder(List<InetSocketAddress> listeners) {
        return new Builder(listeners);
    }

    public static final class Builder {
        private final List<InetSocketAddress> listeners;
        private String software;
        private Credentials credentials = new Credentials("turnpike", Map.of(), List.of());
        private InetAddress relayIpv4;
        private InetAddress relayIpv6;
        private InetAddress publicIpv4;
        private InetAddress publicIpv6;
        private int relayPortLow = 49152;
        private int relayPortHigh = 65535;
        private int portShare;
        private int portShares = 1;
        private long maxLifetimeSeconds = 3600;
        private long nonceLifetimeSeconds = 600;
        private boolean rfc5766ChannelNumbers;
        private PeerPolicy policy;
        private byte[] nonceKey = new byte[32];
        private RandomGenerator random = new SplittableRandom(1);
        private int maxAllocations = DEFAULT_MAX_ALLOCATIONS;
        private int userQuota = DEFAULT_USER_QUOTA;
        private int clientQuota = DEFAULT_CLIENT_QUOTA;
        private int maxPermissions = DEFAULT_MAX_PERMISSIONS;
        private int maxChannels = DEFAULT_MAX_CHANNELS;
        private long maxBps = DEFAULT_MAX_BPS;
        private long totalBps;
        private long challengeRate = DEFAULT_CHALLENGE_RATE;
        private long challengeBurst = DEFAULT_CHALLENGE_BURST;
        private boolean tcpRelay = true;
        private final java.util.BitSet streamListeners = new java.util.BitSet();

        private Builder(List<InetSocketAddress> listeners) {
            this.listeners = listeners;
        }

        /** The SOFTWARE attribute, or null for none (the default: it tells an attacker what to try). */
        public Builder software(String value) {
            this.software = value;
            return this;
        }

        public Builder credentials(Credentials value) {
            this.credentials = value;
            return this;
        }

        /** The address relay sockets bind for IPv4 (null: no IPv4 relaying) and what is advertised (null: same). */
        public Builder relayIpv4(InetAddress bind, InetAddress advertised) {
            this.relayIpv4 = bind;
            this.publicIpv4 = advertised;
            return this;
        }

        public Builder relayIpv6(InetAddress bind, InetAddress advertised) {
            this.relayIpv6 = bind;
            this.publicIpv6 = advertised;
            return this;
        }

        public Builder relayPorts(int low, int high) {
            this.relayPortLow = low;
            this.relayPortHigh = high;
            return this;
        }

        /**
         * One of {@code shares} relays in a process (workers) hands out only share {@code index} of the relay ports,
         * a contiguous part, so that no two bind the same port; peers may still reach any port of the range.
         */
        public Builder relayPortShare(int index, int shares) {
            this.portShare = index;
            this.portShares = shares;
            return this;
        }

        public Builder maxLifetimeSeconds(long value) {
            this.maxLifetimeSeconds = value;
            return this;
        }

        public Builder nonceLifetimeSeconds(long value) {
            this.nonceLifetimeSeconds = value;
            return this;
        }

        public Builder rfc5766ChannelNumbers(boolean value) {
            this.rfc5766ChannelNumbers = value;
            return this;
        }

        public Builder policy(PeerPolicy value) {
            this.policy = value;
            return this;
        }

        /** The key nonces are authenticated with: random per process in the daemon, fixed in tests. */
        public Builder nonceKey(byte[] value) {
            this.nonceKey = value.clone();
            return this;
        }

        /** Relay ports and transaction ids come from here: seeded from SecureRandom in the daemon. */
        public Builder random(RandomGenerator value) {
            this.random = value;
            return this;
        }

        /** Allocations live at once (total), per user and per client IP; 0: no limit. Over one: 486. */
        public Builder quotas(int total, int perUser, int perClientIp) {
            this.maxAllocations = total;
            this.userQuota = perUser;
            this.clientQuota = perClientIp;
            return this;
        }

        /** Permissions and channels one allocation may hold; 0: no limit. Over one: 508. */
        public Builder perAllocation(int permissions, int channels) {
            this.maxPermissions = permissions;
            this.maxChannels = channels;
            return this;
        }

        /** Bits per second relayed, per allocation and in total; 0: no limit. Over: dropped and counted. */
        public Builder bandwidth(long perAllocationBps, long totalBps) {
            this.maxBps = perAllocationBps;
            this.totalBps = totalBps;
            return this;
        }

        /** Replies a second (and the burst) to unauthenticated requests per source IP; rate 0: no limit. */
        public Builder challengeRate(long perSecond, long burst) {
            this.challengeRate = perSecond;
            this.challengeBurst = burst;
            return this;
        }

        /**
         * RFC 6062 TCP relaying for clients over TCP or TLS (on by default, as coturn's): what a client may ask of
         * it is bounded like datagram relaying (the peer policy, --max-permissions connections an allocation).
         */
        public Builder tcpRelay(boolean value) {
            this.tcpRelay = value;
            return this;
        }

        /** Listener {@code index} (of the list given) takes clients over TCP or TLS connections. */
        public Builder streamListener(int index) {
            this.streamListeners.set(index);
            return this;
        }

        public RelayConfig build() {
            return new RelayConfig(this);
        }
    }
}
