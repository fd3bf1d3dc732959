package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.storage.log.LogSlice;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request's answer on a Kafka connection: encodes it on the answering thread (with the request quota's time
 * counted and its throttle raised in the answer), gives the request's frame and budget bytes back, and hands the
 * encoded bytes to the connection ({@link Connection#handOn}), which writes them on the event loop and decides who
 * takes the connection's next request. Answered exactly once; also times the request's stages when asked to
 * ({@link RequestStages}).
 */
final class ConnectionResponder implements Responder {
    private static final System.Logger LOG = System.getLogger(ConnectionResponder.class.getName());

    /** What an answer needs of its connection. */
    interface Connection {
        ByteBufAllocator alloc();

        /** TLS: record bytes must go through the pipeline as buffers, not as file regions. */
        boolean encrypted();

        /** The encoded answer (null for none) is ready; {@code unmuteAtNanos} is the throttle's end, 0 for none. */
        void handOn(ConnectionResponder answered, Object encoded, long unmuteAtNanos);

        /** Closes the connection from the event loop (a failed request or answer). */
        void closeOnEventLoop();

        /** A finished request's frame bytes go back to the request budget. */
        void releaseFrameBytes(int bytes);

        RequestTimeQuota requestQuota();
    }

    /** One request's throttle: when the connection may be read again, set from a handler thread before it answers. */
    static final class Throttle implements ChannelThrottle {
        /** System.nanoTime() at which the throttle ends; 0 while not throttled. */
        private volatile long untilNanos;
        /** The longest throttle so far, and the quota it came from (null: none to tell). */
        private int throttleTimeMs;
        private Owner owner;

        @Override
        public synchronized void throttle(int throttleTimeMs, Owner owner) {
            if (throttleTimeMs <= 0) return;
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(throttleTimeMs);
            if (untilNanos == 0 || until - untilNanos > 0) {
                untilNanos = until;
                this.throttleTimeMs = throttleTimeMs;
                this.owner = owner;
            }
        }

        /** The answer goes out: the quota whose throttle it carries records it. */
        void answered() {
            Owner o;
            int ms;
            synchronized (this) {
                o = owner;
                ms = throttleTimeMs;
                owner = null;
            }
            if (o != null) o.throttled(ms);
        }
    }

    private final Connection connection;
    private final RequestContext request;
    private final ByteBuf frame;
    private final int frameBytes;
    private final Throttle throttle;
    /** The request body when the request quota applies to it (not during SASL authentication), else null. */
    volatile ApiMessage body;
    /** When the handler thread started on the request, and how long it took (0 while it runs). */
    volatile long startNanos;
    volatile long handlerNanos;
    private final AtomicBoolean answered = new AtomicBoolean();
    private final AtomicBoolean released = new AtomicBoolean();
    /** The handler thread that started the request, until it is done starting it; then null. */
    volatile Thread drainThread;
    /** Answered on {@link #drainThread} while it started the request, with nothing left to the event loop. */
    private boolean answeredInline;
    /** Where this request's stages are recorded, or null (the default); and its stage boundaries so far. */
    RequestStages stages;
    /** One of the first requests logged on its own ({@link RequestStages#traced}). */
    boolean traced;
    long readNanos;
    long takenNanos;
    volatile long answeredNanos;

    ConnectionResponder(Connection connection, RequestContext request, ByteBuf frame, int frameBytes,
                        Throttle throttle) {
        this.connection = connection;
        this.request = request;
        this.frame = frame;
        this.frameBytes = frameBytes;
        this.throttle = throttle;
    }

    /** Whether this request's stages are recorded or traced: then {@link #recordStages} once it is written. */
    boolean timed() {
        return stages != null || traced;
    }

    void recordStages(long writtenNanos) {
        if (stages != null) stages.record(readNanos, takenNanos, startNanos, answeredNanos, writtenNanos);
        if (traced) RequestStages.trace(request, readNanos, takenNanos, startNanos, answeredNanos, writtenNanos);
    }

    /** Whether {@code thread} is the drain thread still starting this request (it answers inline). */
    boolean startingOn(Thread thread) {
        return thread == drainThread;
    }

    /**
     * Whether {@code thread} is the drain thread still starting this request: then it goes on with the next frame
     * itself once done starting it ({@link #finishOnDrainThread}).
     */
    boolean answeredInlineOn(Thread thread) {
        if (thread != drainThread) return false;
        answeredInline = true;
        return true;
    }

    /** Called by the drain thread when it is done starting the request: whether it may go on. */
    boolean finishOnDrainThread() {
        drainThread = null;
        return answeredInline;
    }

    private void claim() {
        if (!answered.compareAndSet(false, true)) {
            throw new IllegalStateException(request.apiKey().apiName() + " answered twice");
        }
    }

    /** The request (and its record slices) is no longer needed: its memory and its budget bytes go back. */
    void releaseRequest() {
        if (!released.compareAndSet(false, true)) return;
        frame.release();
        connection.releaseFrameBytes(frameBytes);
    }

    private void encodingFailed(RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "Cannot encode " + request.apiKey().apiName() + " v"
                + request.apiVersion() + " response", e);
        connection.closeOnEventLoop();
    }

    /**
     * The request_percentage quota: the handler time so far (or all of it, for an answer from the purgatory)
     * counts, and a throttle raises the answer's throttle_time_ms ({@code response} null: there is no answer, as
     * for acks=0, whose time Kafka records as exempt).
     */
    private void recordRequestTime(ApiMessage response) {
        RequestTimeQuota quota = connection.requestQuota();
        ApiMessage requestBody = body;
        if (!quota.armed() || requestBody == null) return;
        long nanos = handlerNanos != 0 ? handlerNanos : System.nanoTime() - startNanos;
        int throttleMs = quota.recordAndThrottle(request, requestBody, nanos);
        if (throttleMs > 0 && response != null) ThrottleTimes.raise(response, throttleMs);
    }

    @Override
    public void send(ApiMessage response) {
        claim();
        recordRequestTime(response);
        throttle.answered();
        ByteBuf encoded;
        try {
            encoded = KafkaFrames.encodeResponse(connection.alloc(), request.correlationId(), request.apiKey(),
                    request.apiVersion(), response);
        } catch (RuntimeException e) {
            encodingFailed(e);
            return;
        } finally {
            releaseRequest();
        }
        connection.handOn(this, encoded, throttle.untilNanos);
    }

    @Override
    public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
        claim();
        recordRequestTime(response);
        throttle.answered();
        List<Object> parts;
        try {
            // Every record set is gathered (minimum 1 byte), so each placeholder is a component of its own.
            ByteBuf encoded = KafkaFrames.encodeResponseGathering(connection.alloc(), request.correlationId(),
                    request.apiKey(), request.apiVersion(), response, 1);
            // TLS encrypts ByteBufs only: on an encrypted connection the records are read into memory here, on
            // the handler thread, instead of going to the socket as file regions.
            parts = FileRecords.splice((CompositeByteBuf) encoded, slices,
                    connection.encrypted() ? FileRecords.TLS_COPIES : null);
        } catch (RuntimeException e) {
            encodingFailed(e);
            return;
        } finally {
            releaseRequest();
        }
        connection.handOn(this, parts, throttle.untilNanos);
    }

    @Override
    public void noResponse() {
        claim();
        recordRequestTime(null);
        throttle.answered();
        releaseRequest();
        connection.handOn(this, null, throttle.untilNanos);
    }

    @Override
    public void fail(Throwable cause) {
        if (!answered.compareAndSet(false, true)) return;
        releaseRequest();
        if (cause instanceof RequestDropped dropped) {
            LOG.log(System.Logger.Level.DEBUG, () -> request.apiKey().apiName() + " v" + request.apiVersion()
                    + " from " + request.clientAddress() + " dropped (" + dropped.getMessage()
                    + "); closing the connection");
            connection.closeOnEventLoop();
            return;
        }
        LOG.log(System.Logger.Level.ERROR, "Failed to handle " + request.apiKey().apiName() + " v"
                + request.apiVersion() + " from " + request.clientAddress() + "; closing the connection", cause);
        connection.closeOnEventLoop();
    }
}
