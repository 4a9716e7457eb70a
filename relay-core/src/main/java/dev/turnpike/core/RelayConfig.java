package dev.turnpike.core;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * What the core needs to know about its setting; the daemon builds it from flags.
 *
 * @param listeners the listening transport addresses, indexed as the loop passes them in
 * @param software the SOFTWARE attribute value, or null to send none
 */
public record RelayConfig(List<InetSocketAddress> listeners, String software) {
    public RelayConfig {
        listeners = List.copyOf(listeners);
    }
}
