package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.purgatory.DelayedOperation;

import java.util.function.BooleanSupplier;

/** A long-poll fetch parked until enough bytes arrived (min.bytes) or max.wait.ms passed. */
public final class DelayedFetch extends DelayedOperation {
    private final BooleanSupplier enoughBytes;
    private final Runnable respond;

    DelayedFetch(long maxWaitMs, BooleanSupplier enoughBytes, Runnable respond) {
        super(maxWaitMs);
        this.enoughBytes = enoughBytes;
        this.respond = respond;
    }

    @Override
    protected boolean tryComplete() {
        return enoughBytes.getAsBoolean() && forceComplete();
    }

    @Override
    protected void onComplete() {
        respond.run();
    }
}
