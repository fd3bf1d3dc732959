package io.tandem.server.kafka.purgatory;

import java.util.function.BooleanSupplier;

/**
 * An answer that waits until {@code ready} holds or its delay passes, then is built from the state at that moment
 * by {@code respond} (which therefore also knows how to answer a timeout).
 */
public final class DelayedResponse extends DelayedOperation {
    private final BooleanSupplier ready;
    private final Runnable respond;

    public DelayedResponse(long delayMs, BooleanSupplier ready, Runnable respond) {
        super(delayMs);
        this.ready = ready;
        this.respond = respond;
    }

    @Override
    protected boolean tryComplete() {
        return ready.getAsBoolean() && forceComplete();
    }

    @Override
    protected void onComplete() {
        respond.run();
    }
}
