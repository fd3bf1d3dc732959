package io.tandem.server.kafka.replica.sim;

import io.tandem.server.kafka.TopicPartition;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A simulated leader's fetch purgatory for replica fetches, as Kafka's DelayedFetch: a fetch with less news than its
 * minBytes waits up to its maxWaitMs, and an append to one of its partitions, or a change of its leadership (a
 * LeaderAndIsr making this broker a follower, a StopReplica, a deletion: what Kafka's ReplicaManager follows with
 * completeDelayedFetchOrProduceRequests), completes it early once it has enough or a partition now answers an error. Lives and dies with one run of its broker; it holds at most one fetch per
 * follower's fetcher, as each fetcher has one in flight.
 */
final class SimFetchPurgatory {
    private static final class Parked {
        final Set<TopicPartition> partitions;
        final BooleanSupplier ready;
        final Consumer<Boolean> complete;
        boolean done;

        Parked(Set<TopicPartition> partitions, BooleanSupplier ready, Consumer<Boolean> complete) {
            this.partitions = partitions;
            this.ready = ready;
            this.complete = complete;
        }
    }

    private final SimBroker leader;
    private final List<Parked> parked = new ArrayList<>();

    SimFetchPurgatory(SimBroker leader) {
        this.leader = leader;
    }

    /**
     * Parks a fetch of {@code partitions} for {@code waitMs}: {@code complete} gets whether the wait ran out (true)
     * or {@code ready} said, after an append, that the fetch can be answered (false).
     */
    void park(Set<TopicPartition> partitions, long waitMs, BooleanSupplier ready, Consumer<Boolean> complete) {
        Parked fetch = new Parked(partitions, ready, complete);
        parked.add(fetch);
        leader.later(waitMs, () -> finish(fetch, true));
    }

    /**
     * Records were appended to {@code tp}, its high watermark or leadership moved, or its log was deleted: the fetches
     * parked on it that can be answered now are.
     */
    void check(TopicPartition tp) {
        for (Parked fetch : List.copyOf(parked)) {
            if (!fetch.done && fetch.partitions.contains(tp) && fetch.ready.getAsBoolean()) finish(fetch, false);
        }
    }

    private void finish(Parked fetch, boolean expired) {
        if (fetch.done) return;
        fetch.done = true;
        parked.remove(fetch);
        fetch.complete.accept(expired);
    }
}
