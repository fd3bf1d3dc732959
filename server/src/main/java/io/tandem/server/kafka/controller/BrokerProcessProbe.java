package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Notices a broker whose process is gone before its ZooKeeper session ends: a SIGKILLed broker keeps its registration
 * (and every leadership) until its session expires, {@code zookeeper.session.timeout.ms} later, while its host
 * already refuses connections to its port. The probe keeps one idle TCP connection to the broker's inter-broker
 * endpoint (a broker never speaks first, so the connection only ends when the broker's side closes); when it ends,
 * the probe dials again at once, and {@link #REFUSALS_TO_REPORT} refused dials in a row report the broker gone. Only
 * once the endpoint has answered, or the registration is {@link #LISTENING_GRACE_MS} old, though: a broker registers
 * before its listener is bound (it opens its logs in between), and a refusal then means "not yet", not "gone".
 *
 * <p>Only a refusal counts: it comes from a live host with nothing listening on the port, which is what a dead broker
 * process leaves. A timeout or an unreachable host says nothing (a partition, a slow machine) and is left to the
 * session as in Kafka. Acting on a wrong verdict is safe the way a session expiry is: the controller moves leaders
 * with new leader epochs and fenced ISR writes, so a broker that was in fact alive can no longer commit anything,
 * and it is taken back as soon as it answers a dial again ({@link Watcher#back}). The first answer a probe gets is
 * reported as {@code back} too: a broker may be out before this probe ever reached it, on another broker's verdict
 * (a controller that was seen gone by the broker that replaced it, which starts with it departed), and nothing else
 * would take it back before it registers again.
 */
final class BrokerProcessProbe implements Runnable, AutoCloseable {
    /** Refused dials in a row that make a verdict (one could be a listener being rebound). */
    static final int REFUSALS_TO_REPORT = 2;
    static final long REDIAL_PAUSE_MS = 100;
    static final int CONNECT_TIMEOUT_MS = 2_000;
    /**
     * A registration older than this has had its listener bound, answered or not (a new controller's probes). Judged
     * at each refusal, not once: a controller elected seconds after a broker registered must still come to a verdict
     * once the registration is old enough (BrokerProcessGoneTest: the old controller, killed 3 s after it registered,
     * was otherwise only dropped when its session ended).
     */
    static final long LISTENING_GRACE_MS = 10_000;
    /** A connection the broker closes sooner than this (a connection limit, a failed TLS handshake) is redialled no faster. */
    static final long SHORT_CONNECTION_MS = 1_000;

    /** Told about one broker's process, from the probe's own thread. */
    interface Watcher {
        void gone(int brokerId);

        void back(int brokerId);
    }

    /** A watcher from two callbacks. */
    static Watcher watcher(java.util.function.IntConsumer gone, java.util.function.IntConsumer back) {
        return new Watcher() {
            @Override
            public void gone(int brokerId) {
                gone.accept(brokerId);
            }

            @Override
            public void back(int brokerId) {
                back.accept(brokerId);
            }
        };
    }

    private final int brokerId;
    private final Watcher watcher;
    private final Thread thread;
    private volatile ListenerEndpoint endpoint;
    private volatile boolean closed;
    private volatile Socket socket;
    /** The endpoint known to listen (it answered once, or is long registered): from then on a refusal means gone. */
    private volatile ListenerEndpoint answered;
    /** The registration's timestamp, for {@link #LISTENING_GRACE_MS}. */
    private volatile long registeredAtMs;

    /**
     * A probe of the controller's process, for a broker that watches it ({@code KafkaController}'s controller watch).
     * A broker takes the controller role inside its own start-up, before it binds its listener, and a start-up on a
     * loaded machine can take longer than {@link #LISTENING_GRACE_MS} from the registration's timestamp to the bind
     * (a bench run at load average 40: 10.4 s from the timestamp to the bind, and the watching broker deleted a live
     * controller's {@code /controller} at its first two refusals). So the grace also counts from when this watch
     * starts: a controller that never answered it is judged {@link #LISTENING_GRACE_MS} after the later of the two
     * (its session may end sooner), one that answered once at its first refusals, as before.
     */
    static BrokerProcessProbe ofController(int brokerId, ListenerEndpoint endpoint, long registeredAtMs,
                                           Watcher watcher, String threadName) {
        return new BrokerProcessProbe(brokerId, endpoint, controllerGraceFrom(registeredAtMs), watcher, threadName);
    }

    /** The origin of {@link #LISTENING_GRACE_MS} for a controller watch that starts now (see {@link #ofController}). */
    static long controllerGraceFrom(long registeredAtMs) {
        return Math.max(registeredAtMs, System.currentTimeMillis());
    }

    /** {@code registeredAtMs}: the registration's timestamp (the broker's clock, as Kafka writes it). */
    BrokerProcessProbe(int brokerId, ListenerEndpoint endpoint, long registeredAtMs, Watcher watcher,
                       String threadName) {
        this.brokerId = brokerId;
        this.endpoint = endpoint;
        this.answered = listeningSince(endpoint, registeredAtMs);
        this.registeredAtMs = registeredAtMs;
        this.watcher = watcher;
        this.thread = new Thread(this, threadName);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** The broker registered again, maybe elsewhere: later dials go there (the current connection ends first). */
    void retarget(ListenerEndpoint next, long registeredAtMs) {
        if (next.equals(endpoint)) return;
        answered = listeningSince(next, registeredAtMs);
        this.registeredAtMs = registeredAtMs;
        endpoint = next;
        closeSocket();
    }

    private static ListenerEndpoint listeningSince(ListenerEndpoint endpoint, long registeredAtMs) {
        return System.currentTimeMillis() - registeredAtMs >= LISTENING_GRACE_MS ? endpoint : null;
    }

    int brokerId() {
        return brokerId;
    }

    @Override
    public void run() {
        int refusals = 0;
        boolean reportedGone = false;
        // The first answer is reported as back (see the class comment).
        boolean everAnswered = false;
        while (!closed) {
            ListenerEndpoint target = endpoint;
            Socket dial = new Socket();
            try {
                dial.connect(new InetSocketAddress(target.host(), target.port()), CONNECT_TIMEOUT_MS);
            } catch (ConnectException failed) {
                closeQuietly(dial);
                if (!isRefusal(failed)) {
                    refusals = 0;
                    pause(SHORT_CONNECTION_MS);
                    continue;
                }
                if (answered == null) answered = listeningSince(target, registeredAtMs);
                if (target.equals(answered) && ++refusals >= REFUSALS_TO_REPORT && !reportedGone && !closed) {
                    reportedGone = true;
                    watcher.gone(brokerId);
                }
                pause(REDIAL_PAUSE_MS);
                continue;
            } catch (IOException noVerdict) {
                closeQuietly(dial);
                refusals = 0;
                pause(SHORT_CONNECTION_MS);
                continue;
            }
            refusals = 0;
            answered = target;
            if ((reportedGone || !everAnswered) && !closed) {
                reportedGone = false;
                watcher.back(brokerId);
            }
            everAnswered = true;
            long connectedAt = System.nanoTime();
            socket = dial;
            if (closed) closeSocket();
            waitForClose(dial);
            closeQuietly(dial);
            if ((System.nanoTime() - connectedAt) / 1_000_000 < SHORT_CONNECTION_MS) pause(SHORT_CONNECTION_MS);
        }
    }

    /** ECONNREFUSED, not an unreachable network (which the JDK reports with the same exception class). */
    private static boolean isRefusal(ConnectException e) {
        return e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("refused");
    }

    /** Reads until the broker's side closes (or this probe does); whatever a broker might send is discarded. */
    private static void waitForClose(Socket connection) {
        byte[] discard = new byte[512];
        try (InputStream in = connection.getInputStream()) {
            while (in.read(discard) >= 0) {
                // a broker never speaks first; nothing to do with it
            }
        } catch (IOException ended) {
            // reset by the peer, or closed by this probe: either way the connection is over
        }
    }

    private void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            closed = true;
        }
    }

    private void closeSocket() {
        Socket current = socket;
        if (current != null) closeQuietly(current);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    @Override
    public void close() {
        closed = true;
        closeSocket();
        thread.interrupt();
    }
}
