package dev.turnpike.daemon.loop;

import java.nio.channels.Selector;

/**
 * What the loop builds a transport with: its selector (a transport registers its sockets there), its counters,
 * whether listeners join an SO_REUSEPORT group (one per worker), the DSCP reader or null, and where the messages it
 * reads go.
 */
public record TransportContext(
        Selector selector, LoopCounters counters, boolean reusePort, TrafficClass marks, ClientInput input) {}
