package dev.turnpike.daemon;

import dev.turnpike.daemon.cli.RelayOptions;
import dev.turnpike.daemon.http.MetricsServer;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.sys.Addresses;
import dev.turnpike.daemon.sys.SystemdNotifier;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ready, draining, stopping: what SIGTERM, POST /drain and GET /readyz see of the relay. A drain stops new
 * allocations and lets the existing ones run until they end or --drain-timeout passes; the loop then ends by
 * itself and the process exits 0. A second SIGTERM stops at once.
 */
public final class Lifecycle {
    private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

    /** How a drain goes; a reload may change it. */
    record DrainSettings(long timeoutSeconds, List<InetSocketAddress> alternateServers, boolean readyWhileDraining) {
        static DrainSettings of(RelayOptions options) {
            return new DrainSettings(
                    options.drainTimeout, List.copyOf(options.alternateServers), options.readyWhileDraining);
        }
    }

    private final Workers loop;
    private final SystemdNotifier systemd;
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile DrainSettings settings;

    Lifecycle(Workers loop, SystemdNotifier systemd, DrainSettings settings) {
        this.loop = loop;
        this.systemd = systemd;
        this.settings = settings;
    }

    void settings(DrainSettings next) {
        this.settings = next;
    }

    /** SIGTERM: the first starts a drain, the next stops at once. */
    void terminate() {
        if (!drain("SIGTERM")) {
            log.atInfo().log("SIGTERM while draining: stopping now");
            loop.stop();
        }
    }

    /** Starts a drain (or, with --drain-timeout 0, stops); false when one is already under way. */
    boolean drain(String trigger) {
        if (!draining.compareAndSet(false, true)) {
            return false;
        }
        systemd.stopping();
        DrainSettings s = settings;
        if (s.timeoutSeconds() == 0) {
            log.atInfo().addKeyValue("trigger", trigger).log("stopping (--drain-timeout 0: no drain)");
            loop.stop();
            return true;
        }
        log.atInfo()
                .addKeyValue("trigger", trigger)
                .addKeyValue("timeoutSeconds", s.timeoutSeconds())
                .addKeyValue(
                        "alternateServers",
                        s.alternateServers().stream().map(Addresses::format).toList())
                .log("draining: new allocations refused, existing ones relayed until they end");
        loop.drain(s.alternateServers(), TimeUnit.SECONDS.toNanos(s.timeoutSeconds()));
        return true;
    }

    boolean draining() {
        return draining.get();
    }

    /**
     * GET /readyz: the loop runs (it published within {@link MetricsServer#STALE_NS}) and, unless
     * --ready-while-draining, it is not draining.
     */
    boolean ready(LoopSnapshot snapshot, long nowNs) {
        boolean live = snapshot != null && nowNs - snapshot.takenAtNs() < MetricsServer.STALE_NS;
        return live && (!draining() || settings.readyWhileDraining());
    }
}
