package dev.turnpike.core;

import java.net.InetSocketAddress;

/**
 * One allocation as an operator's admin view shows it: a copy, taken on the loop's thread, that other threads may
 * read. {@code relayedIpv4} or {@code relayedIpv6} is null when the allocation has no address of that family;
 * {@code id} is what the operator ends it by.
 */
public record AllocationSummary(
        long id,
        String user,
        InetSocketAddress client,
        InetSocketAddress relayedIpv4,
        InetSocketAddress relayedIpv6,
        long ageSeconds,
        long lifetimeLeftSeconds,
        int permissions,
        int channels,
        long packetsToPeers,
        long bytesToPeers,
        long packetsToClient,
        long bytesToClient) {}
