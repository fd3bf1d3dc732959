package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/** OffsetCommit: partitions of unknown topics fail alone; the rest go to the coordinator and the offsets topic. */
final class OffsetCommitHandler implements ApiHandler<OffsetCommitRequest> {
    /** Kafka's offsets.commit.timeout.ms: how long a commit waits for the offsets topic's ISR. */
    static final long OFFSET_COMMIT_TIMEOUT_MS = io.tandem.server.kafka.group.OffsetsTopicStore.COMMIT_TIMEOUT_MS;
    private final KafkaBroker broker;

    OffsetCommitHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, OffsetCommitRequest request, Responder responder) {
        short version = context.apiVersion();
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        Map<TopicPartition, Short> errors = new LinkedHashMap<>();
        Map<String, OffsetCommitRequest.OffsetCommitRequestTopic> requestTopics = new LinkedHashMap<>();
        // v2-v4 may give their own retention (-1: the broker's offsets.retention.minutes), as Kafka 3.9 honours.
        long expireTimestamp = version >= 2 && version <= 4 && request.retentionTimeMs != -1
                ? System.currentTimeMillis() + request.retentionTimeMs : CommittedOffset.NO_EXPIRE_TIMESTAMP;
        // Kafka: READ on the group for the whole commit, READ on each topic for its partitions.
        boolean groupAllowed = broker.authorization().group(context, AclOperation.READ, request.groupId);
        for (OffsetCommitRequest.OffsetCommitRequestTopic t : request.topics) {
            TopicInfo topic = version >= 10 ? broker.metadata().topicById(t.topicId) : broker.metadata().knownTopic(t.name);
            String name = topic != null ? topic.name() : (version >= 10 ? t.topicId.toString() : t.name);
            boolean topicAllowed = (topic == null && version >= 10)
                    || broker.authorization().topic(context, AclOperation.READ, name);
            requestTopics.put(name, t);
            for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions) {
                TopicPartition tp = new TopicPartition(name, p.partitionIndex);
                if (!groupAllowed) {
                    errors.put(tp, GROUP_AUTHORIZATION_FAILED);
                } else if (!topicAllowed) {
                    errors.put(tp, TOPIC_AUTHORIZATION_FAILED);
                } else if (topic == null || !topic.replicas().containsKey(p.partitionIndex)) {
                    errors.put(tp, version >= 10 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION);
                } else {
                    offsets.put(tp, new CommittedOffset(p.committedOffset, p.committedLeaderEpoch,
                            p.committedMetadata, version == 1 ? p.commitTimestamp : -1, expireTimestamp));
                }
            }
        }
        Partition offsetsPartition = null;
        long committedEnd = -1;
        if (!offsets.isEmpty()) {
            // v0 commits are not tied to a generation.
            int generation = version == 0 ? -1 : request.generationIdOrMemberEpoch;
            try {
                // The coordinator answers NOT_COORDINATOR until this broker leads the group's offsets partition
                // (none before FindCoordinator made the topic), as Kafka's: a commit never makes the topic.
                errors.putAll(broker.groups().commitOffsets(request.groupId, request.memberId,
                        request.groupInstanceId, generation, offsets, System.currentTimeMillis(), version));
                offsetsPartition = broker.offsetsPartitionFor(request.groupId);
                committedEnd = offsetsPartition.logEndOffset();
            } catch (ApiException e) {
                for (TopicPartition tp : offsets.keySet()) errors.put(tp, e.error());
            } catch (RuntimeException e) {
                for (TopicPartition tp : offsets.keySet()) errors.put(tp, UNKNOWN_SERVER_ERROR);
            }
        }
        OffsetCommitResponse response = new OffsetCommitResponse();
        for (Map.Entry<String, OffsetCommitRequest.OffsetCommitRequestTopic> e : requestTopics.entrySet()) {
            OffsetCommitResponse.OffsetCommitResponseTopic topic = new OffsetCommitResponse.OffsetCommitResponseTopic();
            topic.name = e.getValue().name;
            topic.topicId = e.getValue().topicId;
            for (OffsetCommitRequest.OffsetCommitRequestPartition p : e.getValue().partitions) {
                OffsetCommitResponse.OffsetCommitResponsePartition partition =
                        new OffsetCommitResponse.OffsetCommitResponsePartition();
                partition.partitionIndex = p.partitionIndex;
                partition.errorCode = errors.getOrDefault(new TopicPartition(e.getKey(), p.partitionIndex), NONE);
                topic.partitions.add(partition);
            }
            response.topics.add(topic);
        }
        if (offsetsPartition == null || !errors.containsValue(NONE)) {
            responder.send(response);
            return;
        }
        // As Kafka's coordinator, a commit is acknowledged once the offsets topic's ISR has it (acks=all).
        broker.whenReplicated(offsetsPartition, committedEnd, OFFSET_COMMIT_TIMEOUT_MS, error -> {
            if (error != NONE) {
                short mapped = error == NOT_LEADER_OR_FOLLOWER ? NOT_COORDINATOR : error;
                for (OffsetCommitResponse.OffsetCommitResponseTopic topic : response.topics) {
                    for (OffsetCommitResponse.OffsetCommitResponsePartition partition : topic.partitions) {
                        if (partition.errorCode == NONE) partition.errorCode = mapped;
                    }
                }
            }
            responder.send(response);
        });
    }
}
