package io.tandem.zk.client;

import io.netty.channel.Channel;
import io.tandem.zk.wire.ZkCodecException;
import io.tandem.zk.wire.ZkPacket;
import io.tandem.zk.wire.proto.RequestHeader;
import java.util.ArrayDeque;

/**
 * The request/reply bookkeeping of a {@link ClientSession}: requests waiting for a ready connection, requests sent
 * and not yet answered (the server answers in xid order, so the oldest is the next reply), the xids, and completing
 * or failing their futures on the callback thread. Both queues together hold at most the client's
 * pendingRequestsMax. Used only on the session's event loop.
 */
final class ClientRequests {
    private final ClientCallbacks callbacks;
    private final int pendingRequestsMax;
    private final ArrayDeque<PendingRequest> waiting = new ArrayDeque<>();
    private final ArrayDeque<PendingRequest> inFlight = new ArrayDeque<>();
    private int nextXid = 1;

    ClientRequests(ClientCallbacks callbacks, int pendingRequestsMax) {
        this.callbacks = callbacks;
        this.pendingRequestsMax = pendingRequestsMax;
    }

    int pendingRequestsMax() {
        return pendingRequestsMax;
    }

    /** Whether another request would pass pendingRequestsMax. */
    boolean full() {
        return waiting.size() + inFlight.size() >= pendingRequestsMax;
    }

    /** Keeps a request until the connection is ready for it. */
    void await(PendingRequest pending) {
        waiting.add(pending);
    }

    /** The oldest waiting request, or null. */
    PendingRequest nextWaiting() {
        return waiting.poll();
    }

    /** Writes the request (unflushed) on {@code channel} with the next xid and expects its reply. */
    void send(PendingRequest pending, Channel channel) {
        pending.xid = nextXid();
        inFlight.add(pending);
        channel.write(new ZkPacket(new RequestHeader(pending.xid, pending.opCode), pending.request));
    }

    private int nextXid() {
        int xid = nextXid;
        // Positive xids only: the negative ones are reserved for pings, notifications, auth and setWatches.
        nextXid = nextXid == Integer.MAX_VALUE ? 1 : nextXid + 1;
        return xid;
    }

    /** The request a reply with {@code xid} answers: the oldest in flight, or the connection is broken. */
    PendingRequest answeredBy(int xid) {
        PendingRequest pending = inFlight.poll();
        if (pending == null || pending.xid != xid) {
            throw new ZkCodecException("reply xid " + xid + " does not match the oldest request xid "
                    + (pending == null ? "(none)" : pending.xid));
        }
        return pending;
    }

    void failInFlight(int code) {
        while (!inFlight.isEmpty()) {
            fail(inFlight.poll(), code);
        }
    }

    void failWaiting(int code) {
        while (!waiting.isEmpty()) {
            fail(waiting.poll(), code);
        }
    }

    void complete(PendingRequest pending, Object value) {
        callbacks.run(() -> pending.future.complete(value));
    }

    void fail(PendingRequest pending, int code) {
        ZkException error = new ZkException(code, pending.clientPath);
        callbacks.run(() -> pending.future.completeExceptionally(error));
    }
}
