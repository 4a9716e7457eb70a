package dev.turnpike.daemon.loop;

import dev.turnpike.core.Relay;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;

/**
 * A drain before a restart, as the loop keeps it: once started, the core takes no new allocation, and the loop
 * ends once no allocation is left in any worker or the deadline has passed. Loop thread only.
 */
public final class Drain {
    private static final Logger log = LoopLog.LOG;

    private boolean draining;
    /** The drain is over: the loop ends. */
    private boolean drained;

    private long deadlineNs;

    /** Starts the drain at {@code nowNs}; a second call changes nothing. */
    void start(Relay relay, List<InetSocketAddress> alternateServers, long timeoutNs, long nowNs) {
        if (!draining) {
            relay.drain(alternateServers);
            draining = true;
            deadlineNs = nowNs + timeoutNs;
        }
    }

    /**
     * Whether the drain ends now (said in one line). Every worker's allocations count: one worker that ended early
     * would leave the SO_REUSEPORT group and move the others' clients.
     */
    boolean ends(Relay relay, long nowNs) {
        if (draining && !drained && (relay.allocationsCounted() == 0 || nowNs - deadlineNs >= 0)) {
            log.atInfo()
                    .addKeyValue("allocationsLeft", relay.allocationCount())
                    .log(relay.allocationsCounted() == 0 ? "drained" : "drain timed out");
            drained = true;
        }
        return drained;
    }

    /** Whether the loop is over. */
    boolean over() {
        return drained;
    }

    /** The earlier of {@code deadlineNs} and the drain's deadline: the loop wakes for whichever comes first. */
    long earlier(long deadlineNs) {
        return draining && this.deadlineNs - deadlineNs < 0 ? this.deadlineNs : deadlineNs;
    }
}
