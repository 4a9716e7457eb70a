package dev.turnpike.daemon.http;

import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.LoopSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Every series the loop's counters make in /metrics, each described once: its name, type, help and labels, and
 * where its value comes from in a {@link LoopSnapshot}. {@link Metrics#render} is a loop over {@link #ALL};
 * the dashboard's test checks its queries against {@link #names}. A new counter is a field the loop increments
 * ({@link LoopCounters} or the core's {@link RelayCounters}) and one entry here.
 *
 * @param label the label that tells the samples apart, or null for a single unlabelled sample
 * @param samples the label values and their values, in order
 * @param byWorker for the few series told by worker (--workers): the value of each worker's snapshot; then
 *     {@code label} is "worker" and {@code samples} is empty
 */
public record MetricSeries(
        String name,
        String type,
        String help,
        String label,
        List<Sample> samples,
        ToDoubleFunction<LoopSnapshot> byWorker) {

    /** One sample: its label value (null when the series has no label) and its value. */
    record Sample(String labelValue, ToDoubleFunction<LoopSnapshot> value) {}

    public static final List<MetricSeries> ALL = List.of(
            gauge(
                    "turnpike_allocations",
                    "Allocations now live.",
                    s -> s.relay().allocationsLive()),
            counter(
                    "turnpike_allocations_created_total",
                    "Allocations created.",
                    s -> s.relay().allocationsCreated()),
            counter(
                    "turnpike_allocations_refused_no_port_total",
                    "Allocate requests answered 508 because no relay port could be had.",
                    s -> s.relay().allocationsRefusedNoPort()),
            counter(
                    "turnpike_allocations_refused_quota_total",
                    "Allocate requests answered 486: over --max-allocations, --user-quota or --client-quota.",
                    s -> s.relay().allocationsRefusedQuota()),
            counter(
                    "turnpike_allocations_refused_draining_total",
                    "Allocate requests refused while draining: 300 Try Alternate, or 508 without --alternate-server.",
                    s -> s.relay().allocationsRefusedDraining()),
            counter(
                    "turnpike_requests_refused_over_limit_total",
                    "CreatePermission and ChannelBind requests answered 508: over --max-permissions or --max-channels.",
                    s -> s.relay().refusedOverLimit()),
            counter(
                    "turnpike_stun_requests_total",
                    "STUN and TURN requests received.",
                    s -> s.relay().stunRequests()),
            counter(
                    "turnpike_binding_requests_total",
                    "STUN Binding requests answered.",
                    s -> s.relay().bindingRequests()),
            counter(
                    "turnpike_indications_ignored_total",
                    "Indications other than Send (keepalives), read and left unanswered.",
                    s -> s.relay().indicationsIgnored()),
            counter(
                    "turnpike_peers_refused_total",
                    "CreatePermission and ChannelBind requests answered 403 by the peer policy.",
                    s -> s.relay().peersRefused()),
            counter(
                    "turnpike_error_responses_total",
                    "Error responses sent (401 challenges included).",
                    s -> s.relay().errorResponses()),
            labelled(
                    "turnpike_auth_failures_total",
                    "counter",
                    "Requests that did not authenticate, by reason (no_integrity: a client's first request, as expected).",
                    "reason",
                    byEnum(
                            RelayCounters.AuthFailure.values(),
                            (s, reason) -> s.relay().authFailures(reason))),
            labelled(
                    "turnpike_relayed_packets_total",
                    "counter",
                    "Packets relayed, by direction.",
                    "direction",
                    List.of(
                            new Sample("client_to_peer", s -> s.relay().packetsClientToPeer()),
                            new Sample("peer_to_client", s -> s.relay().packetsPeerToClient()))),
            labelled(
                    "turnpike_relayed_bytes_total",
                    "counter",
                    "Payload bytes relayed, by direction.",
                    "direction",
                    List.of(
                            new Sample("client_to_peer", s -> s.relay().bytesClientToPeer()),
                            new Sample("peer_to_client", s -> s.relay().bytesPeerToClient()))),
            labelled(
                    "turnpike_same_relay_packets_total",
                    "counter",
                    "Datagrams from a client to another allocation of this relay: delivered inside this worker, or "
                            + "through the host to another worker's bound address (never to the public address).",
                    "path",
                    List.of(
                            new Sample("inside", s -> s.relay().sameRelayInside()),
                            new Sample("through_host", s -> s.relay().sameRelayThroughHost()))),
            labelled(
                    "turnpike_dropped_packets_total",
                    "counter",
                    "Datagrams dropped, by reason. A full socket buffer's are queued; past --max-queued-bytes, while "
                            + "other flows are read, the longest queue's newest are shed (shed).",
                    "reason",
                    concat(
                            byEnum(
                                    RelayCounters.Drop.values(),
                                    (s, reason) -> s.relay().dropped(reason)),
                            List.of(
                                    new Sample("send_error", s -> s.loop().sendErrors),
                                    new Sample("shed", s -> s.loop().droppedShed)))),
            gauge("turnpike_connections", "TCP and TLS client connections open now.", s -> s.loop().streamsOpen),
            counter(
                    "turnpike_connections_accepted_total",
                    "TCP and TLS client connections accepted.",
                    s -> s.loop().streamsAccepted),
            counter(
                    "turnpike_connections_refused_total",
                    "Connections closed as they arrived: over --max-connections, --connections-per-ip or "
                            + "--tls-handshake-rate.",
                    s -> s.loop().streamsRefused),
            labelled(
                    "turnpike_connections_closed_total",
                    "counter",
                    "TCP and TLS connections closed, by reason.",
                    "reason",
                    byEnum(LoopCounters.StreamClose.values(), (s, reason) -> s.loop().streamsClosed[reason.ordinal()])),
            counter(
                    "turnpike_stream_messages_received_total",
                    "STUN and ChannelData messages read from TCP and TLS connections.",
                    s -> s.loop().streamMessagesReceived),
            counter(
                    "turnpike_stream_bytes_written_total",
                    "Bytes written to TCP and TLS connections (TLS records for TLS).",
                    s -> s.loop().streamBytesWritten),
            counter("turnpike_tls_handshakes_total", "TLS handshakes completed.", s -> s.loop().tlsHandshakes),
            gauge("turnpike_dtls_sessions", "DTLS sessions open now.", s -> s.loop().dtlsSessionsOpen),
            counter("turnpike_dtls_handshakes_total", "DTLS handshakes completed.", s -> s.loop().dtlsHandshakes),
            counter(
                    "turnpike_dtls_hello_verify_requests_total",
                    "ClientHellos without a cookie answered with a HelloVerifyRequest, nothing kept for them.",
                    s -> s.loop().dtlsVerifyRequests),
            counter(
                    "turnpike_dtls_refused_total",
                    "ClientHellos refused: over --max-connections, --connections-per-ip or --tls-handshake-rate "
                            + "(HelloVerifyRequests: ten times that rate).",
                    s -> s.loop().dtlsRefused),
            counter(
                    "turnpike_dtls_datagrams_dropped_total",
                    "Datagrams on a DTLS listener from a source without a session that start no handshake.",
                    s -> s.loop().dtlsDropped),
            labelled(
                    "turnpike_dtls_sessions_closed_total",
                    "counter",
                    "DTLS sessions ended, by reason.",
                    "reason",
                    byEnum(LoopCounters.DtlsClose.values(), (s, reason) -> s.loop().dtlsClosed[reason.ordinal()])),
            counter(
                    "turnpike_https_backend_connections_total",
                    "TLS connections whose first bytes were not STUN, passed to --https-backend (how they ended: "
                            + "turnpike_connections_closed_total, reasons backend_*).",
                    s -> s.loop().webPassages),
            labelled(
                    "turnpike_https_backend_bytes_total",
                    "counter",
                    "Plaintext bytes carried between clients and --https-backend.",
                    "direction",
                    List.of(
                            new Sample("to_backend", s -> s.loop().webBytesToBackend),
                            new Sample("from_backend", s -> s.loop().webBytesFromBackend))),
            counter(
                    "turnpike_connections_passed_total",
                    "Client connections passed to another worker: a ConnectionBind for that worker's peer connection.",
                    s -> s.loop().streamsPassed),
            labelled(
                    "turnpike_tcp_relay_events_total",
                    "counter",
                    "RFC 6062 TCP relaying: Connects begun and failed (447), peers accepted, ConnectionBinds answered "
                            + "and refused, peer connections closed unbound after 30 s.",
                    "event",
                    byEnum(
                            RelayCounters.TcpRelay.values(),
                            (s, event) -> s.relay().tcpRelay(event))),
            labelled(
                    "turnpike_tcp_relay_peer_connections_total",
                    "counter",
                    "RFC 6062 connections to peers the loop opened (connect), accepted with an id, or refused.",
                    "way",
                    List.of(
                            new Sample("connect", s -> s.loop().tcpRelayConnects),
                            new Sample("accepted", s -> s.loop().tcpRelayAccepted),
                            new Sample("refused", s -> s.loop().tcpRelayPeersRefused))),
            labelled(
                    "turnpike_tcp_relay_bytes_total",
                    "counter",
                    "Bytes carried between RFC 6062 data connections and their peers.",
                    "direction",
                    List.of(
                            new Sample("to_peers", s -> s.loop().tcpRelayBytesToPeers),
                            new Sample("from_peers", s -> s.loop().tcpRelayBytesFromPeers))),
            counter(
                    "turnpike_allocations_closed_with_connection_total",
                    "Allocations that ended because their client's TCP or TLS connection closed.",
                    s -> s.relay().allocationsClosedWithConnection()),
            counter(
                    "turnpike_datagrams_received_total",
                    "Datagrams read from all sockets.",
                    s -> s.loop().datagramsReceived),
            counter("turnpike_datagrams_sent_total", "Datagrams handed to the kernel.", s -> s.loop().datagramsSent),
            labelled(
                    "turnpike_datagrams_sent_by_socket_total",
                    "counter",
                    "Datagrams handed to the kernel, by socket.",
                    "socket",
                    List.of(
                            new Sample("relay", s -> s.loop().sentToPeers),
                            new Sample("listener", s -> s.loop().sentToClients))),
            counter(
                    "turnpike_send_requests_total",
                    "Packets handed to the send queue: each sent, failed, or still queued.",
                    s -> s.loop().sendsRequested),
            counter(
                    "turnpike_buffered_packets_total",
                    "Packets that met a full socket buffer and were queued instead of dropped.",
                    s -> s.loop().packetsBuffered),
            gauge(
                    "turnpike_queued_packets",
                    "Packets queued now, waiting for a socket to take them.",
                    LoopSnapshot::queuedPackets),
            gauge(
                    "turnpike_queued_bytes",
                    "Bytes queued now, waiting for a socket to take them.",
                    LoopSnapshot::queuedBytes),
            gauge(
                    "turnpike_queued_bytes_high_water",
                    "The most bytes ever queued at once (bounded by --max-queued-bytes plus one datagram's output).",
                    s -> s.loop().queuedBytesHighWater),
            counter(
                    "turnpike_suspended_seconds_total",
                    "Time the loop read nothing while it waited for queued packets to go out.",
                    s -> s.loop().suspendedNs / 1e9),
            counter(
                    "turnpike_buffered_seconds_total",
                    "Time buffered packets waited, from queueing to being sent, all together.",
                    s -> s.loop().bufferedNs / 1e9),
            counter(
                    "turnpike_suspended_waits_total",
                    "Waits for a full socket to take more (each a suspension of reading).",
                    s -> s.loop().suspendedWaits),
            counter(
                    "turnpike_suspended_wakeups_by_writability_total",
                    "Suspended waits that ended because a socket became writable (the rest: a timer, or stop).",
                    s -> s.loop().suspendedWakeupsByWritability),
            counter(
                    "turnpike_batches_held_total",
                    "Read batches whose rest waited because the queue reached --max-queued-bytes.",
                    s -> s.loop().batchesHeld),
            counter("turnpike_timer_runs_total", "Timer sweeps run.", s -> s.loop().timerRuns),
            counter(
                    "turnpike_timer_runs_while_suspended_total",
                    "Timer sweeps run while reading was suspended.",
                    s -> s.loop().timerRunsWhileSuspended),
            counter("turnpike_loop_iterations_total", "Event loop iterations.", s -> s.loop().iterations),
            counter(
                    "turnpike_receive_errors_total",
                    "Receive calls that failed (e.g. an ICMP error).",
                    s -> s.loop().receiveErrors),
            counter(
                    "turnpike_internal_errors_total",
                    "Inputs the core failed on (a bug; the loop went on).",
                    s -> s.loop().internalErrors),
            counter(
                    "turnpike_close_errors_total",
                    "Released relay sockets whose close failed (the loop went on).",
                    s -> s.loop().closeErrors),
            // The few series where one worker's figure tells what the sum hides (--workers): whether the kernel
            // spread the clients evenly, and whether one worker is busy or suspended while the others idle.
            byWorker(
                    "turnpike_worker_allocations",
                    "gauge",
                    "Allocations now live, by worker.",
                    w -> w.relay().allocationsLive()),
            byWorker(
                    "turnpike_worker_datagrams_received_total",
                    "counter",
                    "Datagrams read, by worker.",
                    w -> w.loop().datagramsReceived),
            byWorker(
                    "turnpike_worker_loop_iterations_total",
                    "counter",
                    "Event loop iterations, by worker.",
                    w -> w.loop().iterations),
            byWorker(
                    "turnpike_worker_suspended_seconds_total",
                    "counter",
                    "Time a worker read nothing while it waited for queued packets to go out, by worker.",
                    w -> w.loop().suspendedNs / 1e9));

    /** The names of every series described here. */
    public static List<String> names() {
        return ALL.stream().map(MetricSeries::name).toList();
    }

    private static MetricSeries counter(String name, String help, ToDoubleFunction<LoopSnapshot> value) {
        return new MetricSeries(name, "counter", help, null, List.of(new Sample(null, value)), null);
    }

    private static MetricSeries gauge(String name, String help, ToDoubleFunction<LoopSnapshot> value) {
        return new MetricSeries(name, "gauge", help, null, List.of(new Sample(null, value)), null);
    }

    private static MetricSeries labelled(String name, String type, String help, String label, List<Sample> samples) {
        return new MetricSeries(name, type, help, label, samples, null);
    }

    private static MetricSeries byWorker(String name, String type, String help, ToDoubleFunction<LoopSnapshot> value) {
        return new MetricSeries(name, type, help, "worker", List.of(), value);
    }

    /** A sample for each constant, labelled with its name in lower case. */
    private static <E extends Enum<E>> List<Sample> byEnum(
            E[] values, java.util.function.ToDoubleBiFunction<LoopSnapshot, E> value) {
        List<Sample> samples = new ArrayList<>();
        for (E e : values) {
            samples.add(new Sample(e.name().toLowerCase(Locale.ROOT), s -> value.applyAsDouble(s, e)));
        }
        return List.copyOf(samples);
    }

    private static List<Sample> concat(List<Sample> first, List<Sample> second) {
        List<Sample> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }
}
