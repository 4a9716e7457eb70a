package dev.turnpike.daemon;

import dev.turnpike.core.RelayCounters;
import java.util.List;
import java.util.Locale;

/**
 * The relay's counters in the Prometheus text format (version 0.0.4), rendered from a snapshot the loop
 * published: the loop's thread owns the live counters, so other threads only ever see copies.
 */
final class Metrics {
    private Metrics() {}

    /**
     * Copies taken on a loop's thread at {@code takenAtNs} (System.nanoTime); for the process, the sum of its
     * workers' and the oldest time among them, with each worker's own in {@code workers} (empty in a worker's).
     */
    record Snapshot(
            RelayCounters relay,
            LoopCounters loop,
            int queuedPackets,
            long queuedBytes,
            long takenAtNs,
            List<Snapshot> workers) {
        static Snapshot sum(List<Snapshot> workers) {
            RelayCounters relay = new RelayCounters();
            LoopCounters loop = new LoopCounters();
            int queuedPackets = 0;
            long queuedBytes = 0;
            long oldest = workers.get(0).takenAtNs();
            for (Snapshot w : workers) {
                relay.add(w.relay());
                loop.add(w.loop());
                queuedPackets += w.queuedPackets();
                queuedBytes += w.queuedBytes();
                oldest = w.takenAtNs() - oldest < 0 ? w.takenAtNs() : oldest;
            }
            return new Snapshot(relay, loop, queuedPackets, queuedBytes, oldest, List.copyOf(workers));
        }
    }

    /** What the loop does not know: whether a drain is under way, and the reloads applied and refused. */
    static String renderLifecycle(boolean draining, long reloadsApplied, long reloadsRefused) {
        StringBuilder b = new StringBuilder(512);
        single(
                b,
                "turnpike_draining",
                "gauge",
                "1 while draining (SIGTERM or POST /drain): new allocations refused.",
                draining ? 1 : 0);
        b.append("# HELP turnpike_reloads_total Reloads (SIGHUP or POST /reload), by whether they were applied.\n")
                .append("# TYPE turnpike_reloads_total counter\n")
                .append("turnpike_reloads_total{result=\"applied\"} ")
                .append(reloadsApplied)
                .append('\n')
                .append("turnpike_reloads_total{result=\"refused\"} ")
                .append(reloadsRefused)
                .append('\n');
        return b.toString();
    }

    static String render(Snapshot s) {
        RelayCounters r = s.relay();
        LoopCounters l = s.loop();
        StringBuilder b = new StringBuilder(4096);
        single(b, "turnpike_allocations", "gauge", "Allocations now live.", r.allocationsLive());
        single(b, "turnpike_allocations_created_total", "counter", "Allocations created.", r.allocationsCreated());
        single(
                b,
                "turnpike_allocations_refused_no_port_total",
                "counter",
                "Allocate requests answered 508 because no relay port could be had.",
                r.allocationsRefusedNoPort());
        single(
                b,
                "turnpike_allocations_refused_quota_total",
                "counter",
                "Allocate requests answered 486: over --max-allocations, --user-quota or --client-quota.",
                r.allocationsRefusedQuota());
        single(
                b,
                "turnpike_allocations_refused_draining_total",
                "counter",
                "Allocate requests refused while draining: 300 Try Alternate, or 508 without --alternate-server.",
                r.allocationsRefusedDraining());
        single(
                b,
                "turnpike_requests_refused_over_limit_total",
                "counter",
                "CreatePermission and ChannelBind requests answered 508: over --max-permissions or --max-channels.",
                r.refusedOverLimit());
        single(b, "turnpike_stun_requests_total", "counter", "STUN and TURN requests received.", r.stunRequests());
        single(b, "turnpike_binding_requests_total", "counter", "STUN Binding requests answered.", r.bindingRequests());
        single(
                b,
                "turnpike_indications_ignored_total",
                "counter",
                "Indications other than Send (keepalives), read and left unanswered.",
                r.indicationsIgnored());
        single(
                b,
                "turnpike_peers_refused_total",
                "counter",
                "CreatePermission and ChannelBind requests answered 403 by the peer policy.",
                r.peersRefused());
        single(
                b,
                "turnpike_error_responses_total",
                "counter",
                "Error responses sent (401 challenges included).",
                r.errorResponses());
        header(
                b,
                "turnpike_auth_failures_total",
                "counter",
                "Requests that did not authenticate, by reason (no_integrity: a client's first request, as expected).");
        for (RelayCounters.AuthFailure reason : RelayCounters.AuthFailure.values()) {
            sample(
                    b,
                    "turnpike_auth_failures_total",
                    "reason",
                    reason.name().toLowerCase(Locale.ROOT),
                    r.authFailures(reason));
        }

        header(b, "turnpike_relayed_packets_total", "counter", "Packets relayed, by direction.");
        sample(b, "turnpike_relayed_packets_total", "direction", "client_to_peer", r.packetsClientToPeer());
        sample(b, "turnpike_relayed_packets_total", "direction", "peer_to_client", r.packetsPeerToClient());
        header(b, "turnpike_relayed_bytes_total", "counter", "Payload bytes relayed, by direction.");
        sample(b, "turnpike_relayed_bytes_total", "direction", "client_to_peer", r.bytesClientToPeer());
        sample(b, "turnpike_relayed_bytes_total", "direction", "peer_to_client", r.bytesPeerToClient());
        header(
                b,
                "turnpike_same_relay_packets_total",
                "counter",
                "Datagrams from a client to another allocation of this relay: delivered inside this worker, or "
                        + "through the host to another worker's bound address (never to the public address).");
        sample(b, "turnpike_same_relay_packets_total", "path", "inside", r.sameRelayInside());
        sample(b, "turnpike_same_relay_packets_total", "path", "through_host", r.sameRelayThroughHost());
        header(
                b,
                "turnpike_dropped_packets_total",
                "counter",
                "Datagrams dropped, by reason. A full socket buffer's are queued; past --max-queued-bytes, while "
                        + "other flows are read, the longest queue's newest are shed (shed).");
        for (RelayCounters.Drop reason : RelayCounters.Drop.values()) {
            sample(
                    b,
                    "turnpike_dropped_packets_total",
                    "reason",
                    reason.name().toLowerCase(Locale.ROOT),
                    r.dropped(reason));
        }
        sample(b, "turnpike_dropped_packets_total", "reason", "send_error", l.sendErrors);
        sample(b, "turnpike_dropped_packets_total", "reason", "shed", l.droppedShed);

        single(b, "turnpike_connections", "gauge", "TCP and TLS client connections open now.", l.streamsOpen);
        single(
                b,
                "turnpike_connections_accepted_total",
                "counter",
                "TCP and TLS client connections accepted.",
                l.streamsAccepted);
        single(
                b,
                "turnpike_connections_refused_total",
                "counter",
                "Connections closed as they arrived: over --max-connections, --connections-per-ip or "
                        + "--tls-handshake-rate.",
                l.streamsRefused);
        header(b, "turnpike_connections_closed_total", "counter", "TCP and TLS connections closed, by reason.");
        for (LoopCounters.StreamClose reason : LoopCounters.StreamClose.values()) {
            sample(
                    b,
                    "turnpike_connections_closed_total",
                    "reason",
                    reason.name().toLowerCase(Locale.ROOT),
                    l.streamsClosed[reason.ordinal()]);
        }
        single(
                b,
                "turnpike_stream_messages_received_total",
                "counter",
                "STUN and ChannelData messages read from TCP and TLS connections.",
                l.streamMessagesReceived);
        single(
                b,
                "turnpike_stream_bytes_written_total",
                "counter",
                "Bytes written to TCP and TLS connections (TLS records for TLS).",
                l.streamBytesWritten);
        single(b, "turnpike_tls_handshakes_total", "counter", "TLS handshakes completed.", l.tlsHandshakes);
        single(
                b,
                "turnpike_allocations_closed_with_connection_total",
                "counter",
                "Allocations that ended because their client's TCP or TLS connection closed.",
                r.allocationsClosedWithConnection());
        single(
                b,
                "turnpike_datagrams_received_total",
                "counter",
                "Datagrams read from all sockets.",
                l.datagramsReceived);
        single(b, "turnpike_datagrams_sent_total", "counter", "Datagrams handed to the kernel.", l.datagramsSent);
        header(b, "turnpike_datagrams_sent_by_socket_total", "counter", "Datagrams handed to the kernel, by socket.");
        sample(b, "turnpike_datagrams_sent_by_socket_total", "socket", "relay", l.sentToPeers);
        sample(b, "turnpike_datagrams_sent_by_socket_total", "socket", "listener", l.sentToClients);
        single(
                b,
                "turnpike_send_requests_total",
                "counter",
                "Packets handed to the send queue: each sent, failed, or still queued.",
                l.sendsRequested);
        single(
                b,
                "turnpike_buffered_packets_total",
                "counter",
                "Packets that met a full socket buffer and were queued instead of dropped.",
                l.packetsBuffered);
        single(
                b,
                "turnpike_queued_packets",
                "gauge",
                "Packets queued now, waiting for a socket to take them.",
                s.queuedPackets());
        single(
                b,
                "turnpike_queued_bytes",
                "gauge",
                "Bytes queued now, waiting for a socket to take them.",
                s.queuedBytes());
        single(
                b,
                "turnpike_queued_bytes_high_water",
                "gauge",
                "The most bytes ever queued at once (bounded by --max-queued-bytes plus one datagram's output).",
                l.queuedBytesHighWater);
        single(
                b,
                "turnpike_suspended_seconds_total",
                "counter",
                "Time the loop read nothing while it waited for queued packets to go out.",
                l.suspendedNs / 1e9);
        single(
                b,
                "turnpike_buffered_seconds_total",
                "counter",
                "Time buffered packets waited, from queueing to being sent, all together.",
                l.bufferedNs / 1e9);
        single(
                b,
                "turnpike_suspended_waits_total",
                "counter",
                "Waits for a full socket to take more (each a suspension of reading).",
                l.suspendedWaits);
        single(
                b,
                "turnpike_suspended_wakeups_by_writability_total",
                "counter",
                "Suspended waits that ended because a socket became writable (the rest: a timer, or stop).",
                l.suspendedWakeupsByWritability);
        single(
                b,
                "turnpike_batches_held_total",
                "counter",
                "Read batches whose rest waited because the queue reached --max-queued-bytes.",
                l.batchesHeld);
        single(b, "turnpike_timer_runs_total", "counter", "Timer sweeps run.", l.timerRuns);
        single(
                b,
                "turnpike_timer_runs_while_suspended_total",
                "counter",
                "Timer sweeps run while reading was suspended.",
                l.timerRunsWhileSuspended);
        single(b, "turnpike_loop_iterations_total", "counter", "Event loop iterations.", l.iterations);
        single(
                b,
                "turnpike_receive_errors_total",
                "counter",
                "Receive calls that failed (e.g. an ICMP error).",
                l.receiveErrors);
        single(
                b,
                "turnpike_internal_errors_total",
                "counter",
                "Inputs the core failed on (a bug; the loop went on).",
                l.internalErrors);
        single(
                b,
                "turnpike_close_errors_total",
                "counter",
                "Released relay sockets whose close failed (the loop went on).",
                l.closeErrors);
        perWorker(b, s.workers());
        ProcessMetrics.render(b);
        return b.toString();
    }

    /**
     * The few series where one worker's figure tells what the sum hides (--workers): whether the kernel spread the
     * clients evenly, and whether one worker is busy or suspended while the others idle.
     */
    private static void perWorker(StringBuilder b, List<Snapshot> workers) {
        if (workers.isEmpty()) {
            return;
        }
        byWorker(
                b,
                workers,
                "turnpike_worker_allocations",
                "gauge",
                "Allocations now live, by worker.",
                w -> w.relay().allocationsLive());
        byWorker(
                b,
                workers,
                "turnpike_worker_datagrams_received_total",
                "counter",
                "Datagrams read, by worker.",
                w -> w.loop().datagramsReceived);
        byWorker(
                b,
                workers,
                "turnpike_worker_loop_iterations_total",
                "counter",
                "Event loop iterations, by worker.",
                w -> w.loop().iterations);
        byWorker(
                b,
                workers,
                "turnpike_worker_suspended_seconds_total",
                "counter",
                "Time a worker read nothing while it waited for queued packets to go out, by worker.",
                w -> w.loop().suspendedNs / 1e9);
    }

    private static void byWorker(
            StringBuilder b,
            List<Snapshot> workers,
            String name,
            String type,
            String help,
            java.util.function.ToDoubleFunction<Snapshot> value) {
        header(b, name, type, help);
        for (int i = 0; i < workers.size(); i++) {
            b.append(name)
                    .append("{worker=\"")
                    .append(i)
                    .append("\"} ")
                    .append(format(value.applyAsDouble(workers.get(i))))
                    .append('\n');
        }
    }

    static void single(StringBuilder b, String name, String type, String help, double value) {
        header(b, name, type, help);
        b.append(name).append(' ').append(format(value)).append('\n');
    }

    static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, String label, String value, long count) {
        b.append(name)
                .append('{')
                .append(label)
                .append("=\"")
                .append(value)
                .append("\"} ")
                .append(count)
                .append('\n');
    }

    static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.6f", value);
    }
}
