package io.tandem.server.kafka.purgatory;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * An answer that waits until {@code ready} holds or its delay passes, then is built from the state at that moment
 * by {@code respond} (which therefore also knows how to answer a timeout).
 *
 * <p>Both run on whichever thread completes the operation (a produce's handler, the timer), so neither may let an
 * exception escape: a {@code ready} check that throws completes the operation at once (the answer reports the error),
 * and a {@code respond} that throws is handed to {@code failed} (for a request: fail it, which closes the connection
 * and frees the request) instead of being lost on the timer thread with the request never answered.
 */
public final class DelayedResponse extends DelayedOperation {
    private static final System.Logger LOG = System.getLogger(DelayedResponse.class.getName());

    private final BooleanSupplier ready;
    private final Runnable respond;
    private final Consumer<Throwable> failed;

    public DelayedResponse(long delayMs, BooleanSupplier ready, Runnable respond, Consumer<Throwable> failed) {
        super(delayMs);
        this.ready = ready;
        this.respond = respond;
        this.failed = failed;
    }

    /** For internal waits with no request to fail: a {@code respond} that throws is logged. */
    public DelayedResponse(long delayMs, BooleanSupplier ready, Runnable respond) {
        this(delayMs, ready, respond,
                e -> LOG.log(System.Logger.Level.ERROR, "A delayed completion failed", e));
    }

    @Override
    protected boolean tryComplete() {
        boolean satisfied;
        try {
            satisfied = ready.getAsBoolean();
        } catch (RuntimeException e) {
            satisfied = true;
        }
        return satisfied && forceComplete();
    }

    @Override
    protected void onComplete() {
        try {
            respond.run();
        } catch (RuntimeException e) {
            failed.accept(e);
        }
    }
}
