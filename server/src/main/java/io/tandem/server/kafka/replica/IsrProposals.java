package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * Keeps the ISR of the partitions this broker leads true, as Kafka's Partition.maybeShrinkIsr / maybeExpandIsr with
 * its AlterPartitionManager: each led partition proposes the ISR it should have (followers behind for {@code
 * replica.lag.time.max.ms} out, caught-up ones in), proposals are sent to the controller batched in AlterPartition
 * requests from the sender's executor (never the caller's thread), and the controller's answer is applied when it
 * comes.
 */
final class IsrProposals {
    private static final System.Logger LOG = System.getLogger(IsrProposals.class.getName());

    /** An ISR change waiting for the next AlterPartition to the controller. */
    private record PendingIsrChange(Partition partition, IsrTracker tracker, AlterPartitionRequest.PartitionData data) {
    }

    private final int localBrokerId;
    private final ClusterMetadata metadata;
    private final Consumer<TopicPartition> highWatermarkMoved;
    private final long replicaLagMs;
    private final LongSupplier clock;
    private final Executor isrSender;
    /** Bounded by the led partitions: an IsrTracker proposes nothing more while its change is in flight. */
    private final Queue<PendingIsrChange> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sendScheduled = new AtomicBoolean();
    private volatile ReplicaManager.AlterPartitionSender sender;

    IsrProposals(int localBrokerId, ClusterMetadata metadata, Consumer<TopicPartition> highWatermarkMoved,
                 long replicaLagMs, LongSupplier clock, Executor isrSender) {
        this.localBrokerId = localBrokerId;
        this.metadata = metadata;
        this.highWatermarkMoved = highWatermarkMoved;
        this.replicaLagMs = replicaLagMs;
        this.clock = clock;
        this.isrSender = isrSender;
    }

    void sender(ReplicaManager.AlterPartitionSender sender) {
        this.sender = sender;
    }

    /**
     * Each of {@code partitions} this broker leads drops its laggards from the ISR (Kafka's periodic maybeShrinkIsr).
     * Followers join only at a fetch of theirs, as in Kafka: judged here from its last fetch, a follower that has
     * stopped fetching (or whose broker has stopped) would be taken back in after each removal.
     */
    void maintain(Iterable<Partition> partitions) {
        long now = clock.getAsLong();
        for (Partition p : partitions) propose(p, now, replica -> false);
    }

    /** After a follower fetch (Kafka's maybeExpandIsr): a follower may now belong in the ISR. */
    void followerProgressed(Partition p) {
        IsrTracker tracker = p.isrTracker();
        if (tracker != null && tracker.isr().size() < p.replicas().size()) {
            propose(p, clock.getAsLong(), this::isAlive);
        }
    }

    private void propose(Partition p, long now, java.util.function.IntPredicate mayJoin) {
        IsrTracker tracker = p.isrTracker();
        if (tracker == null || sender == null) return;
        List<Integer> proposed = tracker.proposeChange(p.logEndOffset(), p.highWatermark(),
                p.leaderEpochStartOffset(), now, replicaLagMs, mayJoin);
        if (proposed == null) return;
        AlterPartitionRequest.PartitionData data = new AlterPartitionRequest.PartitionData();
        data.partitionIndex = p.topicPartition().partition();
        data.leaderEpoch = p.leaderEpoch();
        data.newIsr = new ArrayList<>(proposed);
        data.partitionEpoch = tracker.zkVersion();
        LOG.log(System.Logger.Level.INFO, "Proposing ISR {0} for {1} (was {2})", proposed, p.topicPartition(), tracker.isr());
        pending.add(new PendingIsrChange(p, tracker, data));
        if (sendScheduled.compareAndSet(false, true)) isrSender.execute(this::sendPending);
    }

    /** Kafka's isReplicaIsrEligible in ZooKeeper mode: the broker is among the live brokers this broker knows. */
    private boolean isAlive(int brokerId) {
        for (var broker : metadata.liveBrokers()) {
            if (broker.brokerId() == brokerId) return true;
        }
        return false;
    }

    /**
     * Sends every ISR change waiting, in one AlterPartition, as Kafka's AlterPartitionManager batches them: while one
     * request is with the controller the next changes gather, so a broker that many partitions wait for (a restart)
     * costs the controller a few requests, not one per partition. Runs on the sender thread only.
     */
    private void sendPending() {
        sendScheduled.set(false);
        Map<TopicPartition, PendingIsrChange> batch = new LinkedHashMap<>();
        for (PendingIsrChange change; (change = pending.poll()) != null; ) {
            PendingIsrChange earlier = batch.put(change.partition().topicPartition(), change);
            if (earlier != null) earlier.tracker().proposalFailed();
        }
        if (batch.isEmpty()) return;
        ReplicaManager.AlterPartitionSender to = sender;
        AlterPartitionRequest request = new AlterPartitionRequest();
        request.brokerId = localBrokerId;
        request.brokerEpoch = metadata.brokerEpoch();
        Map<String, AlterPartitionRequest.TopicData> byTopic = new LinkedHashMap<>();
        for (PendingIsrChange change : batch.values()) {
            byTopic.computeIfAbsent(change.partition().topicPartition().topic(), name -> {
                AlterPartitionRequest.TopicData topic = new AlterPartitionRequest.TopicData();
                topic.topicName = name;
                request.topics.add(topic);
                return topic;
            }).partitions.add(change.data());
        }
        Map<TopicPartition, AlterPartitionResponse.PartitionData> results = new HashMap<>();
        short error;
        try {
            AlterPartitionResponse response = to.send(request);
            error = response.errorCode;
            for (AlterPartitionResponse.TopicData topic : response.topics) {
                for (AlterPartitionResponse.PartitionData result : topic.partitions) {
                    results.put(new TopicPartition(topic.topicName, result.partitionIndex), result);
                }
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "AlterPartition for " + batch.keySet() + " failed: " + e);
            for (PendingIsrChange change : batch.values()) change.tracker().proposalFailed();
            return;
        }
        batch.forEach((tp, change) -> applyResult(change, error, results.get(tp)));
    }

    private void applyResult(PendingIsrChange change, short error, AlterPartitionResponse.PartitionData result) {
        Partition p = change.partition();
        IsrTracker tracker = change.tracker();
        if (error != NONE || result == null || result.errorCode != NONE) {
            tracker.proposalFailed();
            LOG.log(System.Logger.Level.INFO, "ISR change of {0} refused: {1}", p.topicPartition(),
                    error != NONE || result == null ? error : result.errorCode);
            return;
        }
        if (p.isrTracker() == tracker && result.leaderEpoch == p.leaderEpoch()) {
            tracker.committed(result.isr, result.partitionEpoch);
            if (p.maybeIncrementHighWatermark()) highWatermarkMoved.accept(p.topicPartition());
            // Waiting acks=all produces re-check the ISR against min.insync.replicas.
            highWatermarkMoved.accept(p.topicPartition());
        }
    }
}
