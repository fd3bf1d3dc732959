package io.tandem.server.zookeeper;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether one connection is read, Apache's enableRecv/disableRecv: it is paused while its handshake is being settled,
 * while it has {@link ZkServer#CONNECTION_IN_FLIGHT_MAX} requests or {@link ZkServer#CONNECTION_QUEUED_BYTES_MAX}
 * bytes of requests in flight (until half of that is answered), and, as Apache's {@code globalOutstandingLimit}, while
 * the whole server has more requests in flight than the limit and this connection has some of its own (so it is
 * woken by its own next reply, and a connection with nothing in flight is never starved), and while its replies wait
 * unsent past the channel's high water mark (its client does not read them). Frames decoded from a socket
 * read that were not handled when the pause began are held by the connection and handled, in order, once it reopens.
 *
 * <p>Counts change on the connection's event loop (a request queued) and on the commit thread (a request answered);
 * every decision is made under one lock with the current counts, and the channel's auto-read is switched only on its
 * event loop, so the last switch always reflects the current state.
 */
final class ReadGate {
    static final int HANDSHAKE = 1;
    static final int IN_FLIGHT = 1 << 1;
    static final int BYTES = 1 << 2;
    static final int GLOBAL = 1 << 3;
    /** An injected fault delays a request of this connection. */
    static final int FAULT = 1 << 4;
    /** Its replies wait unsent past the channel's high water mark: the client is not taking them. */
    static final int UNSENT = 1 << 5;

    private final Channel channel;
    private final AtomicInteger serverOutstanding;
    private final int globalOutstandingLimit;
    private final Runnable onOpen;
    private final Object lock = new Object();
    /** Requests of this connection queued and not yet answered; guarded by {@link #lock}. */
    private int inFlight;
    /** Their frame bytes; guarded by {@link #lock}. */
    private long queuedBytes;
    /** Set once the connection closed: its requests no longer count anywhere; guarded by {@link #lock}. */
    private boolean released;
    /** Reasons not to read, bits of the constants above; written under {@link #lock}. */
    private volatile int pauses;

    /** {@code onOpen} runs on the event loop whenever the gate is found open, before reading resumes. */
    ReadGate(Channel channel, AtomicInteger serverOutstanding, int globalOutstandingLimit, Runnable onOpen) {
        this.channel = channel;
        this.serverOutstanding = serverOutstanding;
        this.globalOutstandingLimit = globalOutstandingLimit;
        this.onOpen = onOpen;
    }

    boolean isOpen() {
        return pauses == 0;
    }

    int inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    long queuedBytes() {
        synchronized (lock) {
            return queuedBytes;
        }
    }

    void pause(int reason) {
        synchronized (lock) {
            pauses |= reason;
        }
        apply();
    }

    void resume(int reason) {
        synchronized (lock) {
            pauses &= ~reason;
        }
        apply();
    }

    /** A request of {@code bytes} was queued for the commit thread (event loop). */
    void queued(long bytes) {
        synchronized (lock) {
            if (released) {
                return;
            }
            inFlight++;
            queuedBytes += bytes;
            int outstanding = serverOutstanding.incrementAndGet();
            int next = pauses;
            if (inFlight >= ZkServer.CONNECTION_IN_FLIGHT_MAX) {
                next |= IN_FLIGHT;
            }
            if (queuedBytes >= ZkServer.CONNECTION_QUEUED_BYTES_MAX) {
                next |= BYTES;
            }
            if (outstanding > globalOutstandingLimit) {
                next |= GLOBAL; // inFlight > 0 here: Apache's shouldThrottle
            }
            if (next == pauses) {
                return;
            }
            pauses = next;
        }
        apply();
    }

    /** A request of {@code bytes} was answered (commit thread). */
    void answered(long bytes) {
        synchronized (lock) {
            if (released) {
                return;
            }
            inFlight--;
            queuedBytes -= bytes;
            int outstanding = serverOutstanding.decrementAndGet();
            int next = pauses;
            if (inFlight <= ZkServer.CONNECTION_IN_FLIGHT_MAX / 2) {
                next &= ~IN_FLIGHT;
            }
            if (queuedBytes <= ZkServer.CONNECTION_QUEUED_BYTES_MAX / 2) {
                next &= ~BYTES;
            }
            if (outstanding <= globalOutstandingLimit || inFlight == 0) {
                next &= ~GLOBAL;
            }
            if (next == pauses) {
                return;
            }
            pauses = next;
        }
        apply();
    }

    /** The connection closed: what it still had in flight stops counting towards the server's total. */
    void release() {
        synchronized (lock) {
            if (!released) {
                released = true;
                serverOutstanding.addAndGet(-inFlight);
            }
        }
    }

    /** Switches reading to the current state, on the event loop. */
    private void apply() {
        if (channel.eventLoop().inEventLoop()) {
            applyNow();
        } else {
            channel.eventLoop().execute(this::applyNow);
        }
    }

    private void applyNow() {
        if (pauses == 0) {
            onOpen.run();
        }
        channel.config().setAutoRead(pauses == 0);
    }
}
