package dev.turnpike.daemon.stream;

/** The limits on streams; every one counted when it bites. */
public record StreamLimits(
        int maxConnections,
        int connectionsPerIp,
        long firstMessageTimeoutNs,
        long maxQueuedBytes,
        long tlsHandshakesPerSecond) {}
