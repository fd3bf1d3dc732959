package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What leaves a Kafka connection, on its event loop: answers, in the order they are handed over (the connection is
 * not read while one is not on the socket yet, {@link ConnectionReading}); the end of a request, once its answer is
 * written and a quota's throttle time is over; and closes: at once for bad input (one log line), and for a failed
 * authentication after connection.failed.authentication.delay.ms, with its answer held back until then, as Kafka's
 * Selector holds it.
 */
final class ConnectionWriter {
    /** The connection's log lines keep the name they had before the handler was split. */
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());

    private final ChannelHandlerContext context;
    private final ConnectionReading reading;
    private final ConnectionTurn turn;
    /** The request in hand is done and the connection's next frame, if any, goes on (the handler's). Event loop. */
    private final Runnable continueElsewhere;
    /** connection.failed.authentication.delay.ms: see {@link #closeAfterFailedAuthentication}. */
    private final long failedAuthenticationDelayMs;
    /** The answer being written ends the connection (a failed authentication); set before it is handed to write. */
    private volatile boolean closeAfterWrite;
    /** A failed authentication's answer held back until the delay is over; event loop only. */
    private Object heldFailureAnswer;
    /** The held answer's delay is over; event loop only. */
    private boolean failureDelayOver;

    ConnectionWriter(ChannelHandlerContext context, ConnectionReading reading, ConnectionTurn turn,
                     long failedAuthenticationDelayMs, Runnable continueElsewhere) {
        this.context = context;
        this.reading = reading;
        this.turn = turn;
        this.failedAuthenticationDelayMs = failedAuthenticationDelayMs;
        this.continueElsewhere = continueElsewhere;
    }

    ByteBufAllocator alloc() {
        return context.alloc();
    }

    /** The answer about to be handed over ends the connection (a failed authentication). Any thread. */
    void closeAfterWrite() {
        closeAfterWrite = true;
    }

    boolean closesAfterWrite() {
        return closeAfterWrite;
    }

    /** An answer whose thread goes on with the next frame by itself, written from the event loop. Any thread. */
    void writeOnEventLoop(ByteBuf answer) {
        onEventLoop(() -> write(answer, 0, false, null), answer);
    }

    /**
     * Writes an answer. With {@code finishWhenWritten} the request is finished once it is on the socket and, when a
     * quota throttled it, {@code unmuteAtNanos} has come (Kafka's MUTED_AND_THROTTLED state): the event loop then
     * takes the connection on; otherwise the answering thread already went on. {@code timed}: the request whose
     * stages are recorded ({@link RequestStages}), else null. Event loop only.
     */
    void write(Object response, long unmuteAtNanos, boolean finishWhenWritten, ConnectionResponder timed) {
        if (reading.closed() || !context.channel().isActive()) {
            release(response);
            // The frames read before the client closed are still handled (ConnectionTurn), without answers.
            if (closeAfterWrite) turn.discard();
            else if (finishWhenWritten) continueElsewhere.run();
            return;
        }
        if (closeAfterWrite && failedAuthenticationDelayMs > 0 && !failureDelayOver) {
            // A failed authentication's answer waits out the delay, as Kafka's Selector holds it; the connection
            // stays muted (ConnectionReading#holdOnLoop) until then.
            heldFailureAnswer = response;
            context.executor().schedule(() -> {
                Object held = heldFailureAnswer;
                heldFailureAnswer = null;
                failureDelayOver = true;
                if (held == null) turn.discard(); // released when the connection closed meanwhile
                else write(held, unmuteAtNanos, finishWhenWritten, timed);
            }, failedAuthenticationDelayMs, TimeUnit.MILLISECONDS);
            return;
        }
        ChannelPromise written = context.newPromise();
        if (response instanceof List<?> parts) {
            for (int i = 0; i < parts.size(); i++) {
                context.write(parts.get(i), i == parts.size() - 1 ? written : context.voidPromise());
            }
            if (parts.isEmpty()) written.setSuccess();
        } else {
            context.write(response, written);
        }
        reading.writing(written);
        context.flush();
        written.addListener(f -> {
            if (timed != null && f.isSuccess()) timed.recordStages(System.nanoTime());
            if (closeAfterWrite) {
                turn.discard();
                context.close();
            } else if (f.isSuccess() && finishWhenWritten) {
                finishedAt(unmuteAtNanos);
            } else if (finishWhenWritten) {
                // The connection went away under the answer: the frames read before that are still handled.
                continueElsewhere.run();
            }
        });
    }

    /** The request is done; the connection stays muted until {@code unmuteAtNanos} (0: not throttled). Event loop. */
    void finishedAt(long unmuteAtNanos) {
        long delayNanos = unmuteAtNanos == 0 ? 0 : unmuteAtNanos - System.nanoTime();
        if (delayNanos <= 0) {
            continueElsewhere.run();
        } else {
            context.executor().schedule(continueElsewhere, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * A failed SASL authentication without an answer to send, closed as Kafka's Selector closes it: the connection is
     * not read any more, and is closed after connection.failed.authentication.delay.ms (at once for 0), so a client
     * guessing passwords gets one guess per delay and connection. Held connections stay open, so they count against
     * max.connections and max.connections.per.ip as Kafka counts its delayed closes. Any thread.
     */
    void closeAfterFailedAuthentication(String reason) {
        closeAfterFailedAuthentication(reason, null);
    }

    /** As above, with an answer to write (after the delay) before the close when {@code answer} is not null. */
    void closeAfterFailedAuthentication(String reason, ByteBuf answer) {
        LOG.log(System.Logger.Level.INFO, "Failed authentication with {0} ({1})", context.channel().remoteAddress(),
                reason);
        reading.holdOnLoop();
        turn.discard();
        if (answer != null) {
            closeAfterWrite = true;
            writeOnEventLoop(answer);
            return;
        }
        onEventLoop(() -> {
            reading.update();
            if (failedAuthenticationDelayMs == 0) context.close();
            else context.executor().schedule(() -> context.close(), failedAuthenticationDelayMs, TimeUnit.MILLISECONDS);
        }, null);
    }

    /** Closes the connection at once for bad input or a shutdown, with one log line. Any thread. */
    void closeWith(String reason) {
        LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: {1}",
                context.channel().remoteAddress(), reason);
        turn.discard();
        context.close();
    }

    /** Closes the connection from the event loop (a failed request or answer). Any thread. */
    void closeOnEventLoop() {
        turn.discard();
        onEventLoop(() -> context.close(), null);
    }

    /** The channel closed: an answer held back for the failed-authentication delay is released. Event loop. */
    void channelClosed() {
        if (heldFailureAnswer != null) {
            release(heldFailureAnswer);
            heldFailureAnswer = null;
        }
    }

    /** Runs on the channel's event loop; if the loop is gone (shutdown), the answer is dropped and released. */
    void onEventLoop(Runnable task, Object owned) {
        try {
            context.channel().eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            release(owned);
        }
    }

    private static void release(Object response) {
        if (response instanceof List<?> parts) {
            for (Object part : parts) ReferenceCountUtil.release(part);
        } else if (response != null) {
            ReferenceCountUtil.release(response);
        }
    }
}
