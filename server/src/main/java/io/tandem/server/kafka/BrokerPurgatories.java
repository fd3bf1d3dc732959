package io.tandem.server.kafka;

import io.netty.util.Timeout;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.purgatory.DeadlineTimer;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;
import io.tandem.server.kafka.purgatory.DelayedResponse;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A {@link KafkaBroker}'s parked operations: long polls in the fetch purgatory, acks=all produces and internal
 * replication waits in the produce purgatory, both on one timer. It owns when they complete (the high watermark
 * moved, the partition moved away, the timeout passed) and answering those still parked at shutdown.
 */
final class BrokerPurgatories {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());

    /** Deadlines to 10 ms, as the wheel this replaced; the thread sleeps while nothing is parked (DeadlineTimer). */
    private static final long TIMER_TICK_MS = 10;

    private final DeadlineTimer timer;
    private final DelayedOperationPurgatory<DelayedResponse> fetch;
    private final DelayedOperationPurgatory<DelayedResponse> produce;

    /** At most {@code parkedMax} operations parked in each purgatory; beyond that they are answered at once. */
    BrokerPurgatories(int parkedMax) {
        this.timer = new DeadlineTimer("kafka-purgatory-timer", TIMER_TICK_MS, TimeUnit.MILLISECONDS);
        this.fetch = new DelayedOperationPurgatory<>(timer, parkedMax);
        this.produce = new DelayedOperationPurgatory<>(timer, parkedMax);
    }

    DelayedOperationPurgatory<DelayedResponse> fetch() {
        return fetch;
    }

    DelayedOperationPurgatory<DelayedResponse> produce() {
        return produce;
    }

    /** The high watermark of a led partition moved, or its leadership changed: parked operations re-check. */
    void highWatermarkMoved(TopicPartition tp) {
        fetch.checkAndComplete(tp);
        produce.checkAndComplete(tp);
    }

    /**
     * Calls {@code then} once the partition's high watermark reaches {@code requiredOffset} (NONE), {@code moved}
     * says the partition moved away (NOT_LEADER_OR_FOLLOWER), or the timeout passes (REQUEST_TIMED_OUT).
     */
    void whenReplicated(Partition partition, long requiredOffset, BooleanSupplier moved, long timeoutMs,
                        Consumer<Short> then) {
        DelayedResponse delayed = new DelayedResponse(timeoutMs,
                () -> moved.getAsBoolean() || partition.highWatermark() >= requiredOffset,
                () -> then.accept(moved.getAsBoolean() ? NOT_LEADER_OR_FOLLOWER
                        : partition.highWatermark() >= requiredOffset ? NONE : REQUEST_TIMED_OUT));
        produce.tryCompleteElseWatch(delayed, List.of(partition.topicPartition()));
    }

    /**
     * Stops the timer. Parked fetches and produces hold their request frames until answered: they are answered now
     * (their connections are closed, so the answers are released unsent) rather than left to a stopped timer, which
     * leaks them.
     */
    void close() {
        for (Timeout parked : timer.stop()) {
            try {
                parked.task().run(parked);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "A parked request failed to complete at shutdown", e);
            }
        }
    }
}
