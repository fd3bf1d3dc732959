package io.tandem.server.kafka.purgatory;

import io.netty.util.Timeout;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request answer that waits for a condition (acks=all: the high watermark passing the batch; a long-poll fetch:
 * enough bytes) or for its timeout, whichever comes first. {@link #onComplete()} runs exactly once.
 */
public abstract class DelayedOperation {
    private final AtomicBoolean completed = new AtomicBoolean();
    private final long delayMs;
    private volatile Timeout timeout;

    protected DelayedOperation(long delayMs) {
        this.delayMs = delayMs;
    }

    public long delayMs() {
        return delayMs;
    }

    /**
     * Checks the condition and calls {@link #forceComplete()} when it holds. Called under this operation's monitor,
     * so implementations need no locking of their own.
     */
    protected abstract boolean tryComplete();

    /** Builds and sends the answer; runs exactly once, on whichever thread completed the operation. */
    protected abstract void onComplete();

    /** Runs after {@link #onComplete()} when it was the timeout that completed the operation. */
    protected void onExpiration() {
    }

    /** Completes the operation now unless someone already did; true if this call completed it. */
    public final boolean forceComplete() {
        if (!completed.compareAndSet(false, true)) return false;
        Timeout t = timeout;
        if (t != null) t.cancel();
        onComplete();
        return true;
    }

    public final boolean isCompleted() {
        return completed.get();
    }

    final synchronized boolean safeTryComplete() {
        return !isCompleted() && tryComplete();
    }

    final void timeout(Timeout timeout) {
        this.timeout = timeout;
    }
}
