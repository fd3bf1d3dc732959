package io.tandem.server.kafka.network;

import io.netty.channel.ChannelFuture;

/**
 * Whether a Kafka connection is read (muting and backpressure, through its {@link ReadGate}), as Kafka's network layer
 * mutes a channel between a receive and its response: not while the last answer is not on the socket yet (then again
 * once it is), so a client that sends without reading its answers is soon not read either; not while the event loop
 * holds the connection (a throttled or closing answer, as Kafka's MUTED_AND_THROTTLED); and not once the read-ahead
 * bounds of the connection's {@link ConnectionTurn} are reached (then again once the holder takes a frame,
 * {@link ConnectionTurn#roomFreed}).
 */
final class ConnectionReading {
    private final ReadGate gate;
    private final ConnectionTurn turn;
    /** Set when the channel closed: answers completing afterwards are released instead of written. */
    private volatile boolean closed;
    /** The last answer handed to the socket; event loop only. The connection is not read until it is written. */
    private ChannelFuture lastWrite;
    /** The pending write {@link #update} listens to, so it listens once; event loop only. */
    private ChannelFuture awaitedWrite;
    /**
     * The event loop takes the connection on once an answer is on the socket (a throttled or closing answer): no
     * reading until then, as Kafka's MUTED_AND_THROTTLED. Set by the answering thread, cleared on the event loop.
     */
    private volatile boolean loopHolds;

    ConnectionReading(ReadGate gate, ConnectionTurn turn) {
        this.gate = gate;
        this.turn = turn;
    }

    /** Event loop: reads the connection on, or mutes it, as the class comment says. */
    void update() {
        if (closed) return;
        ChannelFuture pending = lastWrite;
        if (pending != null && !pending.isDone()) {
            gate.busy(true);
            if (awaitedWrite != pending) {
                awaitedWrite = pending;
                pending.addListener(f -> update());
            }
            return;
        }
        gate.busy(loopHolds || !turn.roomToRead());
    }

    /** An answer was handed to the socket: the connection is not read until it is written. Event loop. */
    void writing(ChannelFuture written) {
        lastWrite = written;
    }

    /** The event loop takes the connection on once the answer is on the socket; until then it is not read. */
    void holdOnLoop() {
        loopHolds = true;
    }

    /** The event loop gave the connection on ({@link #holdOnLoop}). Event loop. */
    void releaseLoopHold() {
        loopHolds = false;
    }

    /** The channel closed: it is never read again, and answers completing afterwards are released. */
    void close() {
        closed = true;
    }

    boolean closed() {
        return closed;
    }
}
