package dev.turnpike.daemon.dtls;

import dev.turnpike.daemon.loop.ClientInput;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.Transport;
import dev.turnpike.daemon.loop.TransportContext;
import dev.turnpike.daemon.loop.UdpSocket;
import dev.turnpike.daemon.stream.StreamLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TURN over DTLS (RFC 7350) on the loop's own selector: a UDP socket a listener, a {@link DtlsSession} a client.
 *
 * <p>No state before the cookie (RFC 6347 §4.2.1): a ClientHello without one is answered with a HelloVerifyRequest
 * by an engine made for that datagram and dropped at once, so spoofed sources cost a little CPU (bounded by a rate)
 * and no memory; a session is kept only for a ClientHello whose cookie the engine accepts, which proves the client
 * receives at its address. Sessions are bounded in all (--max-connections), per client IP (--connections-per-ip) and
 * in handshakes a second (--tls-handshake-rate); a handshake must finish within --first-message-timeout, and its
 * flights are resent by the loop's sweep while it waits; a session nothing is heard on for the idle timeout ends,
 * and with it the client's allocation, as a TCP connection's close ends one. Loop thread only.
 */
public final class DtlsTransport implements Transport, DtlsSession.Output {
    private static final Logger log = LoggerFactory.getLogger(DtlsTransport.class);
    /** Datagrams read a socket per readiness before the loop moves on. */
    private static final int READS_PER_READINESS = 64;

    private final Selector selector;
    private final LoopCounters counters;
    private final ClientInput delivery;
    private final boolean reusePort;
    private final long idleTimeoutNs;
    private final int receiveBuffer;
    private SSLContext context;
    private StreamLimits limits;
    private final List<DtlsListener> listeners = new ArrayList<>();
    private final HashMap<InetSocketAddress, DtlsSession> sessions = new HashMap<>();
    private final DtlsAdmission admission;

    private final ByteBuffer in = ByteBuffer.allocateDirect(65_536);
    private final ByteBuffer plain = ByteBuffer.allocate(65_536);
    private final ByteBuffer out = ByteBuffer.allocateDirect(65_536);
    /** The listener of the datagram being handled: where packets for its client leave. */
    private DtlsListener current;

    /** On the loop of {@code loop}, serving {@code settings}' certificate, within {@code limits}. */
    public DtlsTransport(TransportContext loop, DtlsSettings settings, StreamLimits limits) {
        this.selector = loop.selector();
        this.counters = loop.counters();
        this.delivery = loop.input();
        this.reusePort = loop.reusePort();
        this.context = settings.context();
        this.limits = limits;
        this.idleTimeoutNs = settings.idleTimeoutNs();
        this.receiveBuffer = settings.receiveBuffer();
        this.admission = new DtlsAdmission(limits, System.nanoTime());
    }

    @Override
    public void listen(Listeners.Listener l) throws IOException {
        DtlsListener listener = DtlsListener.bind(l.address(), l.index(), reusePort, receiveBuffer);
        listener.key = listener.channel.register(selector, SelectionKey.OP_READ, listener);
        listeners.add(listener);
    }

    @Override
    public InetSocketAddress boundAddress(int listener) throws IOException {
        for (DtlsListener l : listeners) {
            if (l.index == listener) {
                return (InetSocketAddress) l.channel.getLocalAddress();
            }
        }
        throw new IllegalArgumentException("no DTLS listener " + listener);
    }

    @Override
    public boolean owns(SelectionKey key) {
        return key.attachment() instanceof DtlsListener;
    }

    /** A reload: certificates for new sessions, and the limits from now on. */
    public void reconfigure(DtlsSettings next, StreamLimits nextLimits, long nowNs) {
        if (next != null) {
            context = next.context();
        }
        limits = nextLimits;
        admission.reconfigure(nextLimits, nowNs);
    }

    @Override
    public void onReady(SelectionKey key, long nowNs) {
        DtlsListener listener = (DtlsListener) key.attachment();
        try {
            if (key.isValid() && key.isWritable()) {
                listener.flush();
            }
            if (key.isValid() && key.isReadable()) {
                read(listener, nowNs);
            }
        } catch (IOException e) {
            counters.receiveErrors++;
            log.atDebug().setCause(e).log("DTLS socket error");
        }
    }

    private void read(DtlsListener listener, long nowNs) throws IOException {
        for (int i = 0; i < READS_PER_READINESS; i++) {
            in.clear();
            InetSocketAddress source = (InetSocketAddress) listener.channel.receive(in);
            if (source == null) {
                return;
            }
            in.flip();
            counters.datagramsReceived++;
            current = listener;
            try {
                datagram(listener, source, nowNs);
            } catch (RuntimeException e) {
                // a bug on one session costs that session, never the loop
                counters.internalErrors++;
                log.atError().setCause(e).log("internal error on a DTLS session");
                DtlsSession broken = sessions.get(source);
                if (broken != null) {
                    end(broken, LoopCounters.DtlsClose.ERROR);
                }
            }
        }
    }

    private void datagram(DtlsListener listener, InetSocketAddress source, long nowNs) {
        DtlsSession session = sessions.get(source);
        int hello = session == null ? ClientHello.NOT_CLIENT_HELLO : ClientHello.classify(in);
        if (hello == ClientHello.WITHOUT_COOKIE || hello == ClientHello.TOO_OLD) {
            begin(listener, source, nowNs); // answered without touching the session (RFC 6347 §4.2.8)
            return;
        }
        if (hello == ClientHello.WITH_COOKIE && !ClientHello.hasRandom(in, session.clientRandom)) {
            // a new handshake from the same address and port (the client began again): the old session ends
            // once the new one has shown its cookie; the same hello again is the engine's to answer
            end(session, LoopCounters.DtlsClose.CLIENT);
            session = null;
        }
        boolean fresh = session == null;
        if (fresh) {
            session = begin(listener, source, nowNs);
            if (session == null) {
                return;
            }
        }
        try {
            if (!session.receive(in, plain, out, this, nowNs)) {
                end(session, LoopCounters.DtlsClose.CLIENT);
                return;
            }
        } catch (SSLException e) {
            log.atDebug().addKeyValue("client", source).setCause(e).log("DTLS failed");
            end(session, LoopCounters.DtlsClose.FAILED);
            return;
        }
        if (session.cookieRefused || (fresh && session.packetsOut == 0)) {
            // its cookie was not ours (answered), or its ClientHello was not taken at all (a replayed record
            // number): nothing kept either way
            if (!session.cookieRefused) {
                counters.dtlsDropped++;
            }
            forget(session);
        } else if (session.established && !session.counted) {
            session.counted = true;
            counters.dtlsHandshakes++;
        }
    }

    /** A datagram from a source with no session: a ClientHello may begin one. Answers it, or null. */
    private DtlsSession begin(DtlsListener listener, InetSocketAddress source, long nowNs) {
        switch (ClientHello.classify(in)) {
            case ClientHello.WITHOUT_COOKIE -> {
                if (admission.mayAnswer(nowNs)) {
                    verify(listener, source, nowNs);
                } else {
                    counters.dtlsRefused++;
                }
                return null;
            }
            case ClientHello.TOO_OLD -> {
                counters.dtlsRefused++;
                if (admission.mayAnswer(nowNs)) {
                    ClientHello.protocolVersionAlert(in, out);
                    try {
                        listener.send(source, out, limits.maxQueuedBytes());
                    } catch (IOException e) {
                        counters.sendErrors++;
                    }
                }
                return null;
            }
            case ClientHello.WITH_COOKIE -> {
                if (!admission.admits(source.getAddress(), sessions.size(), nowNs)) {
                    counters.dtlsRefused++;
                    return null;
                }
                ByteBuffer first = ClientHello.firstOf(in);
                if (first == null) {
                    admission.ended(source.getAddress());
                    counters.dtlsDropped++;
                    return null;
                }
                DtlsSession session = new DtlsSession(engine(source), listener.index, source, nowNs);
                try {
                    session.receive(first, plain, out, UNSENT, nowNs); // stands where the client does
                    session.cookieRefused = false; // that HelloVerifyRequest was the rebuilt hello's, expected
                } catch (SSLException e) {
                    admission.ended(source.getAddress());
                    counters.dtlsDropped++;
                    return null;
                }
                session.clientRandom = ClientHello.random(in);
                sessions.put(source, session);
                counters.dtlsSessionsOpen = sessions.size();
                return session;
            }
            default -> {
                counters.dtlsDropped++; // no session, and not a handshake's start
                return null;
            }
        }
    }

    /** Answers a ClientHello without a cookie by a HelloVerifyRequest from an engine kept for nothing else. */
    private void verify(DtlsListener listener, InetSocketAddress source, long nowNs) {
        DtlsSession once = new DtlsSession(engine(source), listener.index, source, nowNs);
        try {
            once.receive(in, plain, out, this, nowNs);
            counters.dtlsVerifyRequests++;
        } catch (SSLException e) {
            counters.dtlsDropped++;
        }
    }

    /** Where the answer to a rebuilt first ClientHello goes: nowhere, the client had it from another engine. */
    private static final DtlsSession.Output UNSENT = new DtlsSession.Output() {
        @Override
        public void packet(DtlsSession session, ByteBuffer packet) {}

        @Override
        public void message(DtlsSession session, ByteBuffer plaintext) {}
    };

    private SSLEngine engine(InetSocketAddress source) {
        SSLEngine engine = context.createSSLEngine(source.getHostString(), source.getPort());
        engine.setEnabledProtocols(new String[] {"DTLSv1.2"});
        return engine;
    }

    @Override
    public void packet(DtlsSession session, ByteBuffer packet) {
        session.packetsOut++;
        try {
            if (!current(session).send(session.client, packet, limits.maxQueuedBytes())) {
                counters.sendErrors++;
            } else {
                counters.sentToClients++;
            }
        } catch (IOException e) {
            counters.sendErrors++;
        }
    }

    private DtlsListener current(DtlsSession session) {
        if (current != null && current.index == session.listener) {
            return current;
        }
        for (DtlsListener l : listeners) {
            if (l.index == session.listener) {
                return l;
            }
        }
        throw new IllegalStateException("no DTLS listener " + session.listener);
    }

    @Override
    public void message(DtlsSession session, ByteBuffer plaintext) {
        delivery.message(session.listener, session.client, plaintext, plaintext.position(), plaintext.remaining(), 0);
    }

    /** Sends a message to a client with a session on {@code listener}: one record, one datagram. */
    @Override
    public void send(
            int listener,
            InetSocketAddress client,
            ByteBuffer bytes,
            boolean channelData,
            UdpSocket flow,
            int trafficClass,
            long nowNs) {
        DtlsSession session = sessions.get(client);
        try {
            if (session == null || session.listener != listener || !session.encrypt(bytes, out)) {
                counters.sendErrors++; // gone, not open yet, or a message larger than a record
                return;
            }
        } catch (SSLException e) {
            counters.sendErrors++;
            end(session, LoopCounters.DtlsClose.FAILED);
            return;
        }
        current = null;
        packet(session, out);
    }

    /** Resends flights that wait, and ends handshakes that took too long and sessions gone quiet. */
    @Override
    public void sweep(long nowNs) {
        List<DtlsSession> late = new ArrayList<>();
        for (DtlsSession s : sessions.values()) {
            if (!s.established && nowNs - s.startedNs >= limits.firstMessageTimeoutNs()) {
                late.add(s);
            } else if (s.established && nowNs - s.lastHeardNs >= idleTimeoutNs) {
                late.add(s);
            } else if (!s.established) {
                try {
                    current = null;
                    s.retransmit(out, this);
                } catch (SSLException e) {
                    late.add(s);
                }
            }
        }
        for (DtlsSession s : late) {
            end(s, s.established ? LoopCounters.DtlsClose.IDLE : LoopCounters.DtlsClose.HANDSHAKE_TIMEOUT);
        }
    }

    /** Ends {@code session}, counted by {@code reason}; an open one's allocation ends with it. */
    private void end(DtlsSession session, LoopCounters.DtlsClose reason) {
        if (sessions.get(session.client) != session) {
            return;
        }
        if (reason != LoopCounters.DtlsClose.FAILED && reason != LoopCounters.DtlsClose.CLIENT) {
            current = null;
            session.close(out, this);
        }
        forget(session);
        counters.dtlsClosed[reason.ordinal()]++;
        log.atDebug()
                .addKeyValue("client", session.client)
                .addKeyValue("reason", reason)
                .log("DTLS session ended");
        if (session.established) {
            delivery.closed(session.listener, session.client);
        }
    }

    private void forget(DtlsSession session) {
        sessions.remove(session.client);
        admission.ended(session.client.getAddress());
        counters.dtlsSessionsOpen = sessions.size();
    }

    @Override
    public void close() {
        for (DtlsSession s : new ArrayList<>(sessions.values())) {
            end(s, LoopCounters.DtlsClose.SHUTDOWN);
        }
        for (DtlsListener l : listeners) {
            try {
                l.channel.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("close failed");
            }
        }
    }
}
