package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.message.AlterShareGroupOffsetsRequest;
import io.tandem.kafka.wire.message.AlterShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.DeleteShareGroupOffsetsRequest;
import io.tandem.kafka.wire.message.DeleteShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.DescribeShareGroupOffsetsRequest;
import io.tandem.kafka.wire.message.DescribeShareGroupOffsetsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.share.PartitionEndOffsets;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.PartitionOffset;
import io.tandem.server.kafka.group.share.ShareSessions;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share group offset admin APIs (KIP-932): DescribeShareGroupOffsets (each share-partition's start offset and
 * lag), AlterShareGroupOffsets and DeleteShareGroupOffsets (empty groups only). One class: three small APIs over the
 * same state. Each is answered from the share coordinators' completion, with no thread waiting for them.
 */
final class ShareGroupOffsetsHandlers {
    /** DescribeShareGroupOffsets' start offset and lag of a partition the group has no state for. */
    static final long UNKNOWN_OFFSET = -1;

    private ShareGroupOffsetsHandlers() {
    }

    static ApiHandler<DescribeShareGroupOffsetsRequest> describe(KafkaBroker broker) {
        return (context, request, responder) -> {
            DescribeShareGroupOffsetsResponse response = new DescribeShareGroupOffsetsResponse();
            long now = System.currentTimeMillis();
            List<CompletableFuture<Void>> groupsAnswered = new ArrayList<>();
            for (DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup g : request.groups) {
                DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup group =
                        new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup();
                group.groupId = g.groupId;
                response.groups.add(group);
                if (!broker.authorization().group(context, AclOperation.DESCRIBE, g.groupId)) {
                    group.errorCode = GROUP_AUTHORIZATION_FAILED;
                    continue;
                }
                short notHere = broker.shareGroups().coordinatorError(g.groupId);
                if (g.topics == null && notHere != NONE) {
                    // As Kafka: all of a group's offsets are read at its coordinator (its runtime's error, with the
                    // error's message); named topics go to the share coordinators from any broker.
                    group.errorCode = notHere;
                    group.errorMessage = io.tandem.kafka.wire.Errors.forCode(notHere).message();
                    continue;
                }
                // Away from the coordinator (or while it loads), named share-partitions are read from their share
                // coordinators alone; here, the group's own view (GROUP_ID_NOT_FOUND for no share group).
                CompletableFuture<List<PartitionOffset>> read = notHere == NONE
                        ? broker.shareGroups().offsetsAsync(g.groupId, now)
                        : broker.shareGroups().offsetsAsync(g.groupId, named(broker, context, g), now);
                // Each group's answer is filled in once its share coordinators answered; sent once all are.
                groupsAnswered.add(read.handle((offsets, failure) -> {
                    if (failure != null) {
                        ApiException e = ShareAcknowledgements.failureOf(failure);
                        group.errorCode = e.error();
                        group.errorMessage = e.getMessage();
                    } else if (offsets == null) {
                        group.errorCode = GROUP_ID_NOT_FOUND;
                        group.errorMessage = "Group " + g.groupId + " not found.";
                    } else {
                        return describeGroup(broker, context, g, group, offsets);
                    }
                    return CompletableFuture.<Void>completedFuture(null);
                }).thenCompose(lagged -> lagged));
            }
            CompletableFuture.allOf(groupsAnswered.toArray(new CompletableFuture<?>[0]))
                    .whenComplete((v, e) -> responder.send(response));
        };
    }

    /**
     * The existing share-partitions a DescribeShareGroupOffsets group names, of the topics the principal may describe
     * (Kafka asks the share coordinators about no others).
     */
    private static java.util.Set<ShareSessions.Key> named(KafkaBroker broker,
            io.tandem.server.kafka.network.RequestContext context,
            DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup g) {
        java.util.Set<ShareSessions.Key> keys = new java.util.LinkedHashSet<>();
        for (DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestTopic t : g.topics) {
            TopicInfo topic = broker.metadata().knownTopic(t.topicName);
            if (topic == null || !broker.authorization().topic(context, AclOperation.DESCRIBE, t.topicName)) continue;
            for (int p : t.partitions) {
                if (topic.replicas().containsKey(p)) keys.add(new ShareSessions.Key(topic.id(), p));
            }
        }
        return keys;
    }

    /**
     * One group's DescribeShareGroupOffsets answer from its share-partitions' start offsets, completed once the lag
     * is in: as Kafka 4.4's GroupCoordinatorService (computeShareGroupLagAndBuildResponse), each share-partition with
     * a start offset gets its lag from its partition's end offset, asked of the partition's leader wherever it is
     * ({@link io.tandem.server.kafka.group.share.PartitionEndOffsets}); one whose end offset cannot be had answers the
     * error with its message and no offsets, as Kafka's.
     */
    private static CompletableFuture<Void> describeGroup(KafkaBroker broker,
            io.tandem.server.kafka.network.RequestContext context,
            DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup g,
            DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup group,
            List<PartitionOffset> offsets) {
        Map<UUID, Map<Integer, PartitionOffset>> known = new LinkedHashMap<>();
        for (PartitionOffset o : offsets) {
            known.computeIfAbsent(o.topicId(), k -> new LinkedHashMap<>()).put(o.partition(), o);
        }
        // Null topics: every share-partition the group has state for, of the topics the principal may describe (as
        // Kafka 4.4's describeShareGroupAllOffsetsForGroup, which leaves the others out of the answer).
        Map<String, List<Integer>> wanted = new LinkedHashMap<>();
        Map<String, List<Integer>> refused = new LinkedHashMap<>();
        if (g.topics == null) {
            for (Map.Entry<UUID, Map<Integer, PartitionOffset>> e : known.entrySet()) {
                TopicInfo topic = broker.metadata().topicById(e.getKey());
                if (topic != null && broker.authorization().topic(context, AclOperation.DESCRIBE, topic.name())) {
                    wanted.put(topic.name(), new ArrayList<>(e.getValue().keySet()));
                }
            }
        } else {
            for (DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestTopic t : g.topics) {
                boolean describable = broker.authorization().topic(context, AclOperation.DESCRIBE, t.topicName);
                (describable ? wanted : refused).put(t.topicName, t.partitions);
            }
        }
        // The answered share-partitions waiting for their partition's end offset.
        Map<TopicPartition, List<DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition>>
                lagged = new LinkedHashMap<>();
        // Each of those answers' delivery-complete count, which its lag subtracts.
        Map<DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition, Integer> completed =
                new java.util.IdentityHashMap<>();
        for (Map.Entry<String, List<Integer>> e : wanted.entrySet()) {
            TopicInfo topic = broker.metadata().knownTopic(e.getKey());
            DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic t =
                    new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic();
            t.topicName = e.getKey();
            t.topicId = topic == null ? new UUID(0, 0) : topic.id();
            for (int p : e.getValue()) {
                DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition part =
                        new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition();
                part.partitionIndex = p;
                part.startOffset = UNKNOWN_OFFSET;
                // Kafka 4.4 answers the share state summary's leader epoch: 0 where there is no state.
                part.leaderEpoch = io.tandem.server.kafka.group.share.state.ShareStateCoordinator.INITIAL_LEADER_EPOCH;
                part.lag = UNKNOWN_OFFSET;
                if (topic == null || !topic.replicas().containsKey(p)) {
                    // As Kafka 4.4's GroupCoordinatorService: a topic not in the metadata answers topic id zero and
                    // start offset -1, and a partition it lacks gets the summary's error, which
                    // computeShareGroupLagAndBuildResponse turns into start offset -1, leader epoch 0 and no lag,
                    // with no error code either way (the Admin then lists the partition without offsets).
                    part.startOffset = UNKNOWN_OFFSET;
                } else {
                    PartitionOffset stored = known.getOrDefault(topic.id(), Map.of()).get(p);
                    // As Kafka 4.4's computeShareGroupLagAndBuildResponse, the leader epoch is the summary's (the
                    // last leader that loaded the share-partition), whatever the partition's leader is now.
                    if (stored != null) part.leaderEpoch = stored.leaderEpoch();
                    // As Kafka 4.4's shouldComputeSharePartitionLag: initialized but never loaded (start offset -1)
                    // has no lag, and neither has a start offset whose delivery-complete count is unknown (-1: state
                    // written before KIP-1226); only the others' end offsets are asked for.
                    if (stored != null && stored.startOffset() >= 0) {
                        part.startOffset = stored.startOffset();
                        if (stored.deliveryCompleteCount() != io.tandem.server.kafka.group.share.SharePersister.UNKNOWN_DELIVERY_COMPLETE_COUNT) {
                            completed.put(part, stored.deliveryCompleteCount());
                            lagged.computeIfAbsent(new TopicPartition(topic.name(), p), k -> new ArrayList<>())
                                    .add(part);
                        }
                    }
                }
                t.partitions.add(part);
            }
            group.topics.add(t);
        }
        // As Kafka 4.4's describeShareGroupOffsetsForGroup: the named topics the principal may not describe are not
        // asked of the group coordinator; they follow the others, with topic id zero (the id is not the principal's
        // to know), and each partition start offset -1, leader epoch 0, lag -1 and TOPIC_AUTHORIZATION_FAILED with
        // its message.
        for (Map.Entry<String, List<Integer>> e : refused.entrySet()) {
            DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic t =
                    new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic();
            t.topicName = e.getKey();
            t.topicId = new UUID(0, 0);
            for (int p : e.getValue()) {
                DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition part =
                        new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition();
                part.partitionIndex = p;
                part.startOffset = UNKNOWN_OFFSET;
                part.leaderEpoch = 0;
                part.lag = UNKNOWN_OFFSET;
                part.errorCode = TOPIC_AUTHORIZATION_FAILED;
                part.errorMessage = io.tandem.kafka.wire.Errors.TOPIC_AUTHORIZATION_FAILED.message();
                t.partitions.add(part);
            }
            group.topics.add(t);
        }
        if (lagged.isEmpty()) return CompletableFuture.completedFuture(null);
        return broker.partitionEndOffsets().latest(lagged.keySet()).thenAccept(ends -> {
            for (Map.Entry<TopicPartition, List<DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition>>
                    e : lagged.entrySet()) {
                PartitionEndOffsets.EndOffset end = ends.get(e.getKey());
                for (DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition part : e.getValue()) {
                    if (end.error() == NONE) {
                        // Kafka 4.4's computeShareGroupLagAndBuildResponse: end offset - start offset - records
                        // already done past the start offset (not clamped, as Kafka's).
                        part.lag = end.offset() - part.startOffset - completed.get(part);
                    } else {
                        // As Kafka: the end offset's error with its message, the offsets left at their defaults.
                        part.startOffset = 0;
                        part.leaderEpoch = 0;
                        part.errorCode = end.error();
                        part.errorMessage = io.tandem.kafka.wire.Errors.forCode(end.error()).message();
                    }
                }
            }
        });
    }

    static ApiHandler<AlterShareGroupOffsetsRequest> alter(KafkaBroker broker) {
        return (context, request, responder) -> {
            AlterShareGroupOffsetsResponse response = new AlterShareGroupOffsetsResponse();
            if (request.groupId == null || request.groupId.isEmpty()) {
                // As Kafka's GroupCoordinatorService, before anything else.
                response.errorCode = io.tandem.kafka.wire.Errors.INVALID_GROUP_ID.code();
                response.errorMessage = io.tandem.kafka.wire.Errors.INVALID_GROUP_ID.message();
                responder.send(response);
                return;
            }
            Map<ShareSessions.Key, Long> offsets = new LinkedHashMap<>();
            for (AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestTopic t : request.topics) {
                TopicInfo topic = broker.metadata().knownTopic(t.topicName);
                boolean readable = broker.authorization().topic(context, AclOperation.READ, t.topicName);
                AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponseTopic rt =
                        new AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponseTopic();
                rt.topicName = t.topicName;
                rt.topicId = topic == null ? new UUID(0, 0) : topic.id();
                for (AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestPartition p : t.partitions) {
                    AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponsePartition rp =
                            new AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponsePartition();
                    rp.partitionIndex = p.partitionIndex;
                    if (!readable) {
                        rp.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    } else if (topic == null || !topic.replicas().containsKey(p.partitionIndex)) {
                        rp.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                    } else {
                        offsets.put(new ShareSessions.Key(topic.id(), p.partitionIndex), p.startOffset);
                    }
                    rt.partitions.add(rp);
                }
                response.responses.add(rt);
            }
            CompletableFuture<Void> altered;
            try {
                // As for a heartbeat: the state topic is created outside the coordinators' locks.
                broker.shareStateTopic().ensureTopic();
                altered = broker.shareGroups().alterOffsetsAsync(request.groupId, offsets, System.currentTimeMillis());
            } catch (ApiException e) {
                altered = CompletableFuture.failedFuture(e);
            }
            altered.whenComplete((v, failure) -> {
                if (failure != null) {
                    ApiException e = ShareAcknowledgements.failureOf(failure);
                    response.errorCode = e.error();
                    response.errorMessage = e.getMessage();
                    response.responses.clear();
                }
                responder.send(response);
            });
        };
    }

    static ApiHandler<DeleteShareGroupOffsetsRequest> delete(KafkaBroker broker) {
        return (context, request, responder) -> {
            DeleteShareGroupOffsetsResponse response = new DeleteShareGroupOffsetsResponse();
            if (request.groupId == null || request.groupId.isEmpty()) {
                // As Kafka's GroupCoordinatorService, before the group's coordinator is looked at.
                response.errorCode = io.tandem.kafka.wire.Errors.INVALID_GROUP_ID.code();
                response.errorMessage = io.tandem.kafka.wire.Errors.INVALID_GROUP_ID.message();
                responder.send(response);
                return;
            }
            List<UUID> topicIds = new ArrayList<>();
            for (DeleteShareGroupOffsetsRequest.DeleteShareGroupOffsetsRequestTopic t : request.topics) {
                TopicInfo topic = broker.metadata().knownTopic(t.topicName);
                DeleteShareGroupOffsetsResponse.DeleteShareGroupOffsetsResponseTopic rt =
                        new DeleteShareGroupOffsetsResponse.DeleteShareGroupOffsetsResponseTopic();
                rt.topicName = t.topicName;
                rt.topicId = topic == null ? new UUID(0, 0) : topic.id();
                if (!broker.authorization().topic(context, AclOperation.READ, t.topicName)) {
                    rt.errorCode = TOPIC_AUTHORIZATION_FAILED;
                } else if (topic == null) {
                    rt.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    topicIds.add(topic.id());
                }
                response.responses.add(rt);
            }
            CompletableFuture<Void> deleted;
            try {
                // The group's records go to __consumer_offsets: NOT_COORDINATOR unless its partition is led here.
                deleted = broker.shareGroups().deleteOffsetsAsync(request.groupId, topicIds,
                        System.currentTimeMillis());
            } catch (ApiException e) {
                deleted = CompletableFuture.failedFuture(e);
            }
            deleted.whenComplete((v, failure) -> {
                if (failure != null) {
                    ApiException e = ShareAcknowledgements.failureOf(failure);
                    response.errorCode = e.error();
                    response.errorMessage = e.getMessage();
                    response.responses.clear();
                }
                responder.send(response);
            });
        };
    }
}
