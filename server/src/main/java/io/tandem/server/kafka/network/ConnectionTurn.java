package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;

/**
 * One Kafka connection's frames that wait to be handled, and its turn: the right to handle them, which exactly one
 * thread holds while any request of the connection is in hand (being decoded, handled or answered). The event loop
 * takes the turn when a frame arrives and nobody holds it, and hands it to a request handler thread; the holder
 * handles frame after frame and gives the turn back when none waits. Used from the event loop and from request
 * handler threads; every method is atomic.
 */
final class ConnectionTurn {
    /** A frame as read, and when (System.nanoTime()). */
    record Received(ByteBuf frame, long nanos) {
    }

    /** Frames read but not started, oldest first. */
    private final ArrayDeque<Received> waiting = new ArrayDeque<>();
    private boolean held;
    private boolean closed;

    /** Event loop: a frame was read; returns whether the caller now holds the turn (nobody did). */
    synchronized boolean add(ByteBuf frame, long nanos) {
        if (closed) {
            frame.release();
            return false;
        }
        waiting.addLast(new Received(frame, nanos));
        if (held) return false;
        held = true;
        return true;
    }

    /** The holder takes the oldest frame, or null: then the turn is given back (and closed connections give none). */
    synchronized Received nextOrGiveBack() {
        Received next = closed ? null : waiting.pollFirst();
        if (next == null) held = false;
        return next;
    }

    /** The holder gives the turn back unless a frame waits (then it keeps it); returns whether it gave it back. */
    synchronized boolean giveBackUnlessFrameWaits() {
        if (!closed && !waiting.isEmpty()) return false;
        held = false;
        return true;
    }

    /** Whether some thread holds the turn. */
    synchronized boolean held() {
        return held;
    }

    /** The connection closed: frames never started are released, and none is handed out any more. */
    synchronized void close() {
        closed = true;
        for (Received frame : waiting) frame.frame().release();
        waiting.clear();
    }
}
