package dev.turnpike.daemon.sys;

import org.slf4j.Logger;

/**
 * SIGTERM drains (the second stops at once) and SIGHUP reloads. Where the JVM cannot take them, SIGTERM keeps
 * its default (the shutdown hook: stop at once) and there is no SIGHUP reload; a process started with SIGHUP
 * ignored (under nohup) gets the reload handler all the same, and each case says so once at start, naming
 * {@code POST /reload} where the signal cannot be had.
 */
public final class SignalSetup {
    private static final int SIGHUP = 1;
    private static final int SIGTERM = 15;

    private SignalSetup() {}

    public static void install(Logger log, Runnable terminate, Runnable reload, boolean adminServed) {
        String otherWay = adminServed
                ? "reload with POST /reload on the metrics listener instead"
                : "set --metrics-listen to reload with POST /reload instead";
        Signals.Outcome term = Signals.handle("TERM", SIGTERM, terminate);
        if (term == Signals.Outcome.UNAVAILABLE) {
            log.atWarn().log("cannot handle SIGTERM here: it stops at once, with no drain");
        }
        switch (Signals.handle("HUP", SIGHUP, reload)) {
            case HANDLED -> {}
            case HANDLED_THOUGH_IGNORED_AT_START ->
                log.atInfo().log("SIGHUP was ignored when turnpike started (nohup?): it reloads all the same");
            case IGNORED_AT_START ->
                log.atWarn().log("SIGHUP was ignored when turnpike started (nohup?) and stays ignored: " + otherWay);
            case UNAVAILABLE -> log.atWarn().log("cannot handle SIGHUP here, so it does not reload: " + otherWay);
        }
    }
}
