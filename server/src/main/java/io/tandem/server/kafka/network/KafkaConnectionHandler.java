package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.tandem.server.FatalErrors;
import io.tandem.server.kafka.security.SaslAuthenticator;

import java.util.concurrent.RejectedExecutionException;

/**
 * One Kafka connection, handled as Kafka's network layer does: one request at a time, in arrival order. So an
 * idempotent producer's in-flight batches are appended in sequence order and answers leave in request order. While a
 * request is in hand the connection's next frames are read ahead and wait here, within {@link ConnectionTurn}'s
 * bounds (a few frames, 1 MiB): then the connection is muted (not read, see {@link ConnectionReading}) until the
 * holder takes a frame. It is muted too while an answer is not on the socket yet, so a client that sends without
 * reading its answers is soon not read either. A request a client quota throttled keeps the connection muted after
 * its answer is written until the throttle time is over.
 *
 * <p>This class decides who holds the connection's requests; its parts, each for one concern: a frame is decoded and
 * its request started by the {@link RequestStarter} (on a SASL listener through the connection's
 * {@link ConnectionAuthentication}), answers and closes leave through the {@link ConnectionWriter}, and
 * {@link ConnectionReading} decides when the connection is read. A malformed request closes only this connection,
 * with one log line.
 *
 * <p>Threads: the event loop queues frames and writes answers (it answers a too-new ApiVersions itself, from memory).
 * A request handler thread takes the connection
 * (its "drain"), decodes and handles its oldest frame, and when the answer is ready hands the encoded bytes to the
 * event loop and goes on with the connection's next frame itself, without a round trip through the event loop and
 * the handler queue for every request (two thread hand-offs per request before). An answer that comes later from
 * another thread (a parked acks=all produce, a coordinator callback) hands the next frame to a handler thread
 * again. Nothing of a request, disk included, runs on the event loop; exactly one thread holds a connection's
 * requests at any time ({@link ConnectionTurn}). A request's answer is encoded by its {@link ConnectionResponder}.
 */
final class KafkaConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());

    private final ApiRegistry registry;
    private final RequestDispatcher dispatcher;
    private final ReadGate gate;
    private final String listenerName;
    private final String securityProtocol;
    /** The connection's SASL authentication on a SASL listener, else null. */
    private final SaslAuthenticator sasl;
    /** connection.failed.authentication.delay.ms, see {@link ConnectionWriter#closeAfterFailedAuthentication}. */
    private final long failedAuthenticationDelayMs;
    /** Frames waiting, and which thread handles them; whoever gives the turn back makes sure the connection is unmuted. */
    private final ConnectionTurn turn = new ConnectionTurn();
    private final ConnectionReading reading;
    /** The parts that need the channel: set in {@link #handlerAdded}, before anything is read. */
    private ChannelHandlerContext context;
    private ConnectionWriter writer;
    private RequestStarter starter;

    KafkaConnectionHandler(ApiRegistry registry, RequestDispatcher dispatcher, ReadGate gate, String listenerName,
                           String securityProtocol, SaslAuthenticator sasl, long failedAuthenticationDelayMs) {
        this.failedAuthenticationDelayMs = failedAuthenticationDelayMs;
        this.listenerName = listenerName;
        this.securityProtocol = securityProtocol;
        this.registry = registry;
        this.dispatcher = dispatcher;
        this.gate = gate;
        this.sasl = sasl;
        this.reading = new ConnectionReading(gate, turn);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
        this.writer = new ConnectionWriter(ctx, reading, turn, failedAuthenticationDelayMs, this::continueElsewhere);
        ConnectionAuthentication authentication = sasl == null ? null : new ConnectionAuthentication(sasl, writer);
        this.starter = new RequestStarter(registry, dispatcher, gate, listenerName, securityProtocol, ctx.channel(),
                sasl, authentication, writer, connection);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        boolean take = turn.add((ByteBuf) msg, System.nanoTime());
        reading.update();
        if (!take) return;
        if (starter.answeredOnEventLoop((ByteBuf) msg)) {
            // It is the only frame (nobody held the turn): answered right here, from memory.
            if (starter.start(turn.nextOrGiveBack())) continueElsewhere();
        } else {
            dispatch();
        }
    }

    /** Hands the connection's turn (held by the caller) to a request handler thread ({@link #drain}). */
    private void dispatch() {
        try {
            dispatcher.submit(new RequestDispatcher.FrameHolder() {
                @Override
                public void run() {
                    drain();
                }

                @Override
                public void dropped() {
                    writer.closeWith("broker is shutting down");
                }
            });
        } catch (RejectedExecutionException e) {
            writer.closeWith("broker is shutting down");
        }
    }

    /**
     * On a request handler thread: handles the connection's frames one after the other for as long as each is
     * answered right away and another one is waiting; stops when the queue is empty (the connection goes idle), or
     * when an answer is left to someone else (a parked request, a throttle, a closing answer), who goes on from there.
     */
    private void drain() {
        try {
            ConnectionTurn.Received frame = nextFrameOrIdle();
            while (frame != null) {
                if (!starter.start(frame)) return;
                frame = nextFrameOrIdle();
            }
        } finally {
            // Answers left for the event loop while this thread went on (ConnectionWriter#deferOnEventLoop) go now:
            // it stops taking the connection's frames (idle, or a request left to another thread or to the loop).
            writer.handOverDeferred();
        }
    }

    /**
     * The oldest waiting frame, or null: then no request is in hand any more. Taking a frame makes room to read
     * ahead: the event loop is told when it stopped reading for want of it, with the answers this thread left for
     * it when it goes on with the frame (they go together at the latest when it stops), else at once. Any thread.
     */
    private ConnectionTurn.Received nextFrameOrIdle() {
        ConnectionTurn.Received next = turn.nextOrGiveBack();
        if (turn.roomFreed()) {
            // In a batch the loop decides on reading once, after the batch's writes are flushed.
            if (next != null) writer.deferOnEventLoop(() -> {
                if (!writer.inBatch()) reading.update();
            }, null);
            else writer.onEventLoop(reading::update, null);
        }
        return next;
    }

    /**
     * The request in hand is done where its next frame is not taken at once (on the event loop, after a throttled
     * answer or one the loop answered itself): the next frame goes to a handler thread, or the connection goes idle.
     */
    private void continueElsewhere() {
        reading.releaseLoopHold();
        if (!turn.giveBackUnlessFrameWaits()) dispatch();
        reading.update();
    }

    /**
     * A request's answer (null for none) goes to the event loop, which writes it and decides on reading further (in
     * the same task, with no second wake-up of the loop); then whoever takes the connection on is decided: no one
     * when no frame waits (the connection goes idle); the drain thread that started the request when it answers
     * inline; else this thread, which hands the next frame to the pool; else the event loop when the answer must be
     * on the socket first (a throttle, or a closing answer: no reading until then). Any thread.
     *
     * <p>The answer is handed to the event loop before the turn is given back: from that moment the event loop may
     * hand the connection's next request to another handler thread, whose answer must not reach the loop's queue
     * first (a producer that got its answers swapped failed with a correlation id mismatch and lost the batches of
     * both requests to its delivery timeout). {@link #turnGivenBack} is a test's hook into that moment.
     */
    private void handOn(ConnectionResponder answered, Object encoded, long unmuteAt) {
        boolean leaveToLoop = unmuteAt != 0 || writer.closesAfterWrite();
        if (leaveToLoop) reading.holdOnLoop();
        if (encoded != null) {
            ConnectionResponder timed = answered.timed() ? answered : null;
            if (timed != null) timed.answeredNanos = System.nanoTime();
            Runnable write = () -> {
                writer.write(encoded, unmuteAt, leaveToLoop, timed);
                if (!writer.inBatch()) reading.update();
            };
            // The drain thread answering inline goes on with the frame that waits: the answer goes with the next
            // hand-over to the event loop instead of waking it now (ConnectionWriter#deferOnEventLoop).
            if (!leaveToLoop && answered.startingOn(Thread.currentThread()) && turn.frameWaits()) {
                writer.deferOnEventLoop(write, encoded);
            } else {
                writer.onEventLoop(write, encoded);
            }
        } else if (leaveToLoop) {
            writer.onEventLoop(() -> writer.finishedAt(unmuteAt), null);
        }
        if (leaveToLoop) return;
        if (turn.giveBackUnlessFrameWaits()) {
            // The frame seen waiting above was discarded meanwhile (the broker closes the connection).
            writer.handOverDeferred();
            Runnable hook = turnGivenBack;
            if (hook != null) hook.run();
            // Idle now: the event loop may have stopped reading for want of the room this freed.
            if (turn.roomFreed()) writer.onEventLoop(reading::update, null);
            return;
        }
        if (!answered.answeredInlineOn(Thread.currentThread())) dispatch();
    }

    /** Tests only: runs on the answering thread right after it gave an idle connection's turn back. */
    static volatile Runnable turnGivenBack;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            LOG.log(System.Logger.Level.DEBUG, "Closing idle Kafka connection from {0}", ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Frames read before the close are still handled, unanswered (ConnectionTurn#close); their bytes went back
        // to the budget with the connection.
        reading.close();
        turn.close();
        writer.channelClosed();
        tellClosed(ctx);
        ctx.fireChannelInactive();
    }

    /**
     * Tells the registry's listeners on a handler thread, as they may do what a request does (a share session's
     * records go back and are written to the share coordinator); not at all once the broker shuts down.
     */
    private void tellClosed(ChannelHandlerContext ctx) {
        if (!registry.hasConnectionCloseListeners()) return;
        String connectionId = ConnectionIds.of(ctx.channel());
        try {
            dispatcher.submit(() -> registry.connectionClosed(connectionId));
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, "Not telling of closed connection {0}: shutting down", connectionId);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.check(cause);
        writer.closeWith(cause.toString());
    }

    /** What a request's answer ({@link ConnectionResponder}) needs of this connection. */
    private final ConnectionResponder.Connection connection = new ConnectionResponder.Connection() {
        @Override
        public ByteBufAllocator alloc() {
            return context.alloc();
        }

        @Override
        public boolean encrypted() {
            return ChannelSecurity.isEncrypted(context.channel());
        }

        @Override
        public void handOn(ConnectionResponder answered, Object encoded, long unmuteAtNanos) {
            KafkaConnectionHandler.this.handOn(answered, encoded, unmuteAtNanos);
        }

        @Override
        public void closeOnEventLoop() {
            writer.closeOnEventLoop();
        }

        @Override
        public void releaseFrameBytes(int bytes) {
            gate.release(bytes);
        }

        @Override
        public RequestTimeQuota requestQuota() {
            return registry.requestQuota();
        }
    };
}
