package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;

/**
 * How one share-partition's changes reach its share coordinator (through its {@link SharePartition.StateSink}): one
 * write at a time, newest last, and no thread waiting while the share coordinator replicates one. Each flush is
 * chained after the one asked for before it; when its turn comes it takes a snapshot of the share-partition (so a
 * write finding its changes already written by an earlier one is skipped), writes it, and settles the request's
 * transitions before the next write takes its snapshot, so no write ever stores a transition that is then rolled
 * back. A failure ends only that flush: the next one writes the whole state again and so repairs it.
 */
final class SharePartitionWriter {
    /** What one write stores, taken under the share-partition's monitor. */
    record Snapshot(long version, int stateEpoch, long startOffset, int deliveryCompleteCount,
                    List<ShareStateBatch> batches, boolean initialize) {
    }

    private final SharePartition partition;
    private volatile SharePartition.StateSink sink = SharePartition.StateSink.NONE;
    /**
     * Completes when the last flush asked for has ended, successfully or not: the next one starts then. One link
     * per flush under way, so bounded by the requests in flight for this share-partition.
     */
    private CompletableFuture<Void> last = CompletableFuture.completedFuture(null);

    SharePartitionWriter(SharePartition partition) {
        this.partition = partition;
    }

    void sink(SharePartition.StateSink sink) {
        this.sink = sink;
    }

    /**
     * Writes the share-partition's state once the writes before have ended, then settles {@code pending} (null:
     * none) by the outcome. Completes once settled: normally when the write (or a later one already) stored the
     * changes, else with the write's ApiException.
     */
    CompletableFuture<Void> flush(SharePartition.Pending pending) {
        CompletableFuture<Void> turnEnded = new CompletableFuture<>();
        CompletableFuture<Void> before;
        synchronized (this) {
            before = last;
            last = turnEnded;
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        before.whenComplete((ignored, earlierFailure) -> write().whenComplete((done, failure) -> {
            try {
                boolean stored = pending != null && partition.settle(pending);
                if (failure != null && !stored) {
                    result.completeExceptionally(unwrap(failure));
                } else {
                    result.complete(null);
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            } finally {
                turnEnded.complete(null);
            }
        }));
        return result;
    }

    private CompletableFuture<Void> write() {
        Snapshot s;
        try {
            s = partition.snapshotForWrite();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (s == null) return CompletableFuture.completedFuture(null);
        SharePartition.StateSink to = sink;
        CompletableFuture<Void> initialized = s.initialize() ? call(() -> to.initialized(s.stateEpoch(),
                s.startOffset())) : CompletableFuture.completedFuture(null);
        CompletableFuture<Void> written = !s.initialize() || !s.batches().isEmpty()
                ? initialized.thenCompose(v -> call(() -> to.written(s.stateEpoch(), s.startOffset(),
                        s.deliveryCompleteCount(), s.batches())))
                : initialized;
        return written.whenComplete((v, e) -> {
            if (e == null) {
                partition.writeSucceeded(s);
            } else {
                partition.writeFailed(s);
            }
        });
    }

    private interface Call {
        CompletableFuture<Void> start();
    }

    /** A sink call whose synchronous failure fails the future rather than the thread that started it. */
    private static CompletableFuture<Void> call(Call call) {
        try {
            return call.start();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The ApiException a write failed with (a CompletionException wraps it when it failed in a later stage). */
    static RuntimeException unwrap(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof RuntimeException r) return r;
        return new ApiException(UNKNOWN_SERVER_ERROR, String.valueOf(cause));
    }

    /** Waits for a flush: what the share-partition's synchronous callers use. */
    static void await(CompletableFuture<Void> flush) {
        try {
            flush.join();
        } catch (CompletionException e) {
            throw unwrap(e);
        }
    }
}
