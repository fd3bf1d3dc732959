package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;

/**
 * One Kafka connection's frames that wait to be handled, and its turn: the right to handle them, which exactly one
 * thread holds while any request of the connection is in hand (being decoded, handled or answered). The event loop
 * takes the turn when a frame arrives and nobody holds it, and hands it to a request handler thread; the holder
 * handles frame after frame and gives the turn back when none waits. Used from the event loop and from request
 * handler threads; every method is atomic.
 *
 * <p>Read-ahead: while a request is in hand the event loop may go on reading the connection's next frames (a producer
 * with several requests in flight), so the holder finds the next request already there instead of waiting for the
 * connection to be unmuted and read again. It reads ahead only while fewer than {@link #READ_AHEAD_FRAMES_MAX}
 * frames wait and the frame in hand plus the waiting ones hold fewer than {@link #READ_AHEAD_BYTES_MAX} bytes, so a
 * connection holds at most those bytes plus the one frame being received, and a client sending large requests is
 * muted behind each one as before.
 *
 * <p>A connection the client closed ({@link #close}) still has its frames read before the close handled, in order,
 * as Kafka's SocketServer handles the receives it completed before a disconnect: an {@code acks=0} produce sent
 * just before closing is appended, not lost. A connection the broker closes ({@link #discard}: a bad frame, a failed
 * authentication) drops them.
 */
final class ConnectionTurn {
    /**
     * Frames read ahead that may wait behind the one in hand: the Java producer's default
     * max.in.flight.requests.per.connection (5) is one in hand and four waiting.
     */
    static final int READ_AHEAD_FRAMES_MAX = 4;
    /** Bytes of the frame in hand and the waiting ones above which no more are read ahead (1 MiB). */
    static final long READ_AHEAD_BYTES_MAX = 1 << 20;

    /** A frame as read, and when (System.nanoTime()). */
    record Received(ByteBuf frame, long nanos) {
    }

    /** Frames read but not started, oldest first. */
    private final ArrayDeque<Received> waiting = new ArrayDeque<>();
    private boolean held;
    private boolean closed;
    /** Bytes of the frames waiting and of the one taken last (in hand until the next is taken or the turn given back). */
    private long bytes;
    private long inHandBytes;
    /** The event loop stopped reading for want of room ({@link #roomToRead}); the holder tells it when there is room. */
    private boolean wantsRoom;

    /** Event loop: a frame was read; returns whether the caller now holds the turn (nobody did). */
    synchronized boolean add(ByteBuf frame, long nanos) {
        if (closed) {
            frame.release();
            return false;
        }
        waiting.addLast(new Received(frame, nanos));
        bytes += frame.readableBytes();
        if (held) return false;
        held = true;
        return true;
    }

    /** The holder takes the oldest frame, or null: then the turn is given back (a discarded connection has none). */
    synchronized Received nextOrGiveBack() {
        Received next = waiting.pollFirst();
        bytes -= inHandBytes;
        inHandBytes = next == null ? 0 : next.frame().readableBytes();
        if (next == null) held = false;
        return next;
    }

    /** The holder gives the turn back unless a frame waits (then it keeps it); returns whether it gave it back. */
    synchronized boolean giveBackUnlessFrameWaits() {
        if (!waiting.isEmpty()) return false;
        held = false;
        bytes -= inHandBytes;
        inHandBytes = 0;
        return true;
    }

    /**
     * Event loop: whether the connection may be read on, by the read-ahead bounds; when not, the next holder to take
     * a frame is asked to say when there is room again ({@link #roomFreed}).
     */
    synchronized boolean roomToRead() {
        boolean room = closed || !held || waiting.size() < READ_AHEAD_FRAMES_MAX && bytes < READ_AHEAD_BYTES_MAX;
        wantsRoom = !room;
        return room;
    }

    /** Holder, after taking a frame or giving the turn back: true once when the event loop waits for room and has it. */
    synchronized boolean roomFreed() {
        if (!wantsRoom) return false;
        boolean room = closed || !held || waiting.size() < READ_AHEAD_FRAMES_MAX && bytes < READ_AHEAD_BYTES_MAX;
        if (room) wantsRoom = false;
        return room;
    }

    /** Whether a frame waits to be taken (the holder then keeps the turn when it is done with the one in hand). */
    synchronized boolean frameWaits() {
        return !waiting.isEmpty();
    }

    /** Whether some thread holds the turn. */
    synchronized boolean held() {
        return held;
    }

    /**
     * The client closed the connection: no frame is added any more; those waiting stay for the holder to handle
     * (nobody holding the turn means none waits).
     */
    synchronized void close() {
        closed = true;
        if (!held) discard();
    }

    /** The broker closes the connection: frames never started are released, and none is handed out any more. */
    synchronized void discard() {
        closed = true;
        for (Received frame : waiting) frame.frame().release();
        waiting.clear();
        bytes = 0;
        inHandBytes = 0;
    }
}
