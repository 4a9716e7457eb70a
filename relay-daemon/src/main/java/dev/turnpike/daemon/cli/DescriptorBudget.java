package dev.turnpike.daemon.cli;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * What the process's open-files limit allows. Every relay port is a socket, and so a file descriptor: a relay
 * that would run out of them at its busiest must not start, rather than fail Allocates with 508 in the middle of
 * the night. But a container is often given a low limit by default (Docker 25 and later: a soft limit of 1,024,
 * which the JVM raises to the hard one at start; some runtimes set the hard one as low): there the defaults of
 * --relay-ports and --max-allocations would refuse to start with no flag at all. So while both are at their
 * defaults, --max-allocations is lowered to what fits, and the relay says so in one line; a value the operator
 * chose is kept, and a limit it does not fit is refused.
 *
 * @param fixed the descriptors needed besides relay sockets: listeners and selectors per worker, connections,
 *     the JDK's own
 * @param families relay address families (1 or 2): each allocation may hold a port in each
 */
public record DescriptorBudget(long limit, long fixed, int families) {
    /** Descriptors for {@code perFamily} relay ports in each family, and the rest. */
    long needed(long perFamily) {
        return families * perFamily + fixed;
    }

    /** Whether {@code perFamily} relay ports fit (an unknown limit, 0 or less, fits anything). */
    boolean fits(long perFamily) {
        return limit <= 0 || needed(perFamily) <= limit;
    }

    /**
     * The most allocations that fit, each with its port and a reserved neighbour (EVEN-PORT) in every family; 0
     * when not even one does.
     */
    int allocationsThatFit() {
        long available = limit - fixed;
        return available < 2L * families ? 0 : (int) Math.min(Integer.MAX_VALUE, available / (2L * families));
    }

    /** The process's limit on open files (the JVM raises the soft limit to the hard one at start), or -1. */
    public static long processLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount()
                : -1;
    }
}
