package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.GroupConfigs;
import io.tandem.server.kafka.group.share.SharePartition;
import io.tandem.server.kafka.group.share.SharePartitionManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.RequestContext;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What ShareFetch and ShareAcknowledge share: resolving a share-partition a member names (at this broker, the
 * partition's leader, whichever broker coordinates the group), and applying its acknowledgement batches (ACCEPT,
 * RELEASE, REJECT, GAP, RENEW) to it, answering per partition as Kafka does.
 */
final class ShareAcknowledgements {
    /** One acknowledgement batch, independent of the two requests' wire classes. */
    record Batch(long firstOffset, long lastOffset, List<Byte> types) {
    }

    private ShareAcknowledgements() {
    }

    /**
     * Whether the member may use share sessions here: on the broker coordinating its group (a single broker's
     * case) it must be a member (UNKNOWN_MEMBER_ID otherwise); a partition leader elsewhere does not know the group's
     * members, and serves any member id, as Kafka's share-partition leaders do.
     */
    static boolean knownMember(KafkaBroker broker, String groupId, String memberId) {
        return !broker.shareGroups().coordinates(groupId) || broker.shareGroups().isMember(groupId, memberId);
    }

    /**
     * The topic, checked: null topic means UNKNOWN_TOPIC_ID; else the error to answer, NONE when readable. A
     * partition not led here is NOT_LEADER_OR_FOLLOWER, and a copy of its share-partition this broker kept from when
     * it led it is dropped.
     */
    static short check(KafkaBroker broker, RequestContext context, String groupId, TopicInfo topic, int partition) {
        short error = check(broker, context, topic, partition);
        if (error == NOT_LEADER_OR_FOLLOWER) broker.shareGroups().partitions().forget(groupId, topic.id(), partition);
        return error;
    }

    private static short check(KafkaBroker broker, RequestContext context, TopicInfo topic, int partition) {
        if (topic == null) return UNKNOWN_TOPIC_ID;
        if (!broker.authorization().topic(context, AclOperation.READ, topic.name())) return TOPIC_AUTHORIZATION_FAILED;
        if (!topic.replicas().containsKey(partition)) return UNKNOWN_TOPIC_OR_PARTITION;
        try {
            broker.leaderPartition(topic, partition);
        } catch (ApiException e) {
            return e.error();
        }
        return NONE;
    }

    /**
     * The share-partition of a group's member; a new one starts where the group's share.auto.offset.reset says: the
     * high watermark (latest, Kafka's default), the log start (earliest), or the first record at or after now minus
     * the duration (by_duration; the high watermark when there is none).
     */
    static CompletableFuture<SharePartition> sharePartition(KafkaBroker broker, String groupId, TopicInfo topic,
                                                            int partition) {
        // A new share-partition is recorded in __consumer_offsets (ShareGroupStatePartitionMetadata): that topic is
        // created here, outside the share coordinator's lock, since becoming its leader loads into that coordinator.
        broker.topics().ensureOffsetsTopic();
        int leaderEpoch = broker.leaderPartition(topic, partition).leaderEpoch();
        return broker.shareGroups().partitions().partitionAsync(groupId, topic.id(), partition, leaderEpoch, () -> {
            Partition log = broker.leaderPartition(topic, partition);
            String reset = broker.groupConfigs().autoOffsetReset(groupId);
            if (reset.equals("earliest")) return log.logStartOffset();
            java.time.Duration duration = GroupConfigs.autoOffsetResetDuration(reset);
            if (duration != null) {
                try {
                    var found = log.log().offsetForTimestamp(System.currentTimeMillis() - duration.toMillis());
                    if (found.isPresent() && found.get().offset() < log.highWatermark()) return found.get().offset();
                } catch (java.io.IOException e) {
                    throw new ApiException(KAFKA_STORAGE_ERROR, "cannot look up " + topic.name() + "-" + partition
                            + " by time: " + e.getMessage());
                }
            }
            return log.highWatermark();
        });
    }

    /**
     * Applies the batches; the first failing batch's error is the partition's (the batches before it stand). The
     * state is then written to the share coordinator, outside the share-partition's monitor, and a failed write is
     * the partition's error as Kafka maps it, the request's transitions rolled back (Kafka's
     * rollbackOrProcessStateUpdates): the records are the member's again, to acknowledge once more. The future
     * completes with the partition's error code once the write is settled; no thread waits for it meanwhile.
     */
    static CompletableFuture<Short> acknowledge(KafkaBroker broker, RequestContext context, String groupId,
                                                String memberId, UUID topicId, int partition, List<Batch> batches,
                                                long nowMs) {
        TopicInfo topic = broker.metadata().topicById(topicId);
        short error = check(broker, context, groupId, topic, partition);
        if (error != NONE) return CompletableFuture.completedFuture(error);
        CompletableFuture<SharePartition> loading;
        try {
            loading = sharePartition(broker, groupId, topic, partition);
        } catch (ApiException e) {
            return CompletableFuture.completedFuture(e.error());
        }
        return loading.handle((sp, loadFailure) -> {
            if (loadFailure != null) return CompletableFuture.completedFuture(errorOf(loadFailure));
            short result = NONE;
            SharePartition.Pending pending = new SharePartition.Pending();
            try {
                for (Batch b : batches) {
                    sp.acknowledgeUnwritten(memberId, b.firstOffset(), b.lastOffset(), b.types(), nowMs, pending);
                }
            } catch (ApiException e) {
                result = e.error();
            }
            short applied = result;
            return sp.flushAsync(pending).handle((ok, writeFailure) -> {
                if (applied != NONE || writeFailure == null) return applied;
                Throwable cause = writeFailure instanceof CompletionException && writeFailure.getCause() != null
                        ? writeFailure.getCause() : writeFailure;
                return cause instanceof ApiException api ? SharePartitionManager.partitionError(api).error()
                        : UNKNOWN_SERVER_ERROR;
            });
        }).thenCompose(f -> f);
    }

    /** The error code a failed share-partition load or write answers. */
    static short errorOf(Throwable failure) {
        return failureOf(failure).error();
    }

    /** A failed share-partition load or write as the ApiException it answers. */
    static ApiException failureOf(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return cause instanceof ApiException api ? api : new ApiException(UNKNOWN_SERVER_ERROR, String.valueOf(cause));
    }
}
