package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What leaves a Kafka connection, on its event loop: answers, in the order they are handed over (the connection is
 * not read while one is not on the socket yet, {@link ConnectionReading}); the end of a request, once its answer is
 * written and a quota's throttle time is over; and closes: at once for bad input (one log line), and for a failed
 * authentication after connection.failed.authentication.delay.ms, with its answer held back until then, as Kafka's
 * Selector holds it.
 *
 * <p>Every task for the event loop goes through one queue per connection, in the order handed over. A request handler
 * thread that answered inline and goes on at once with the connection's next frame may leave its answer there
 * ({@link #deferOnEventLoop}) instead of waking the event loop for it: the next hand-over takes it along, so a
 * producer's pipelined requests cost one wake-up of the loop, one batch of writes and one flush for several answers
 * instead of one each. Waking a sleeping loop is a syscall on the answering thread and a return from the selector on
 * the loop (the largest native cost of a produce after the append's pwrite in the perf29 profile). The deferred tasks
 * are handed over at the latest when the thread stops taking frames, when {@link #DEFERRED_TASKS_MAX} wait, or when
 * anything else is handed over for the connection (a later answer from another thread, a close), so they never
 * wait for another request's long poll or purgatory.
 */
final class ConnectionWriter {
    /** The connection's log lines keep the name they had before the handler was split. */
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());
    /**
     * Deferred tasks at which they are handed over anyway: one per frame the connection reads ahead plus the one in
     * hand (a Java producer's five requests in flight), so a client that pipelines without end still gets its
     * answers in batches of that many.
     */
    static final int DEFERRED_TASKS_MAX = ConnectionTurn.READ_AHEAD_FRAMES_MAX + 1;
    /** Tasks handed to event loops by all connections, one per wake-up at most (tests and diagnostics). */
    private static final LongAdder HAND_OVERS = new LongAdder();

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
    /** Tasks left for the event loop by {@link #deferOnEventLoop}, oldest first, with what each owns; guarded by itself. */
    private final List<Runnable> deferred = new ArrayList<>(DEFERRED_TASKS_MAX);
    private final List<Object> deferredOwned = new ArrayList<>(DEFERRED_TASKS_MAX);
    /** The event loop runs a batch of tasks: their writes are flushed once, at its end. Event loop only. */
    private boolean inBatch;

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
        if (!inBatch) context.flush();
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

    /**
     * Closes the connection at once for bad input or a shutdown, with one log line; answers handed over before go
     * out first, as they did when each was handed to the event loop at once. Any thread.
     */
    void closeWith(String reason) {
        LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: {1}",
                context.channel().remoteAddress(), reason);
        handOverDeferred();
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

    /**
     * Runs on the channel's event loop after every task handed over before it, deferred ones included; if the loop is
     * gone (shutdown), the answers are dropped and released. Any thread.
     */
    void onEventLoop(Runnable task, Object owned) {
        synchronized (deferred) {
            if (deferred.isEmpty()) {
                handOver(task, owned);
                return;
            }
            deferred.add(task);
            deferredOwned.add(owned);
            handOverDeferredLocked();
        }
    }

    /**
     * Leaves a task for the event loop without waking it: it runs, in order, with the next hand-over. Only for a
     * thread that goes on with this connection at once and calls {@link #handOverDeferred} when it stops. Any thread.
     */
    void deferOnEventLoop(Runnable task, Object owned) {
        synchronized (deferred) {
            deferred.add(task);
            deferredOwned.add(owned);
            if (deferred.size() >= DEFERRED_TASKS_MAX) handOverDeferredLocked();
        }
    }

    /** Hands the deferred tasks, if any, to the event loop. Any thread. */
    void handOverDeferred() {
        synchronized (deferred) {
            if (!deferred.isEmpty()) handOverDeferredLocked();
        }
    }

    /** Under the queue's lock, so the loop gets batches in the order they were formed. */
    private void handOverDeferredLocked() {
        if (deferred.size() == 1) {
            handOver(deferred.get(0), deferredOwned.get(0));
        } else {
            Runnable[] tasks = deferred.toArray(new Runnable[0]);
            handOver(() -> runBatch(tasks), new ArrayList<>(deferredOwned));
        }
        deferred.clear();
        deferredOwned.clear();
    }

    /** Several tasks in one go: their answers are written, then flushed once, and reading decided once. Event loop. */
    private void runBatch(Runnable[] tasks) {
        inBatch = true;
        try {
            for (Runnable task : tasks) task.run();
        } finally {
            inBatch = false;
        }
        context.flush();
        reading.update();
    }

    /** Whether the event loop runs a batch now (its writes are flushed and reading decided at its end). Event loop. */
    boolean inBatch() {
        return inBatch;
    }

    private void handOver(Runnable task, Object owned) {
        try {
            context.channel().eventLoop().execute(task);
            HAND_OVERS.increment();
        } catch (RejectedExecutionException e) {
            release(owned);
        }
    }

    /** Tasks handed to event loops so far by all connections (tests). */
    static long handOvers() {
        return HAND_OVERS.sum();
    }

    /** Releases an answer: a buffer, or a list of parts (a batch's answers are a list of those). */
    private static void release(Object response) {
        if (response instanceof List<?> parts) {
            for (Object part : parts) release(part);
        } else if (response != null) {
            ReferenceCountUtil.release(response);
        }
    }
}
