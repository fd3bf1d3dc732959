package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED;
import static io.tandem.server.kafka.ErrorCodes.TOPIC_AUTHORIZATION_FAILED;
import static io.tandem.server.kafka.ErrorCodes.UNSTABLE_OFFSET_COMMIT;

/**
 * OffsetFetch: one group (v0-7) or several (v8+); a partition without a committed offset answers offset -1 with
 * empty metadata and no error, as Kafka does; no topic list means every partition the group committed. With
 * requireStable (v7+, KIP-447: read_committed consumers) a partition whose offset an open transaction is still
 * committing answers UNSTABLE_OFFSET_COMMIT, so the consumer waits instead of starting from the old offset.
 */
final class OffsetFetchHandler implements ApiHandler<OffsetFetchRequest> {
    private static final UUID ZERO_UUID = new UUID(0, 0);
    /** Stands for a partition with a pending transactional offset in the map {@link #fetch} returns. */
    private static final CommittedOffset UNSTABLE = new CommittedOffset(-1, -1, "", -1);
    /** Stands for a requested partition of a topic the principal may not describe (TOPIC_AUTHORIZATION_FAILED). */
    private static final CommittedOffset DENIED = new CommittedOffset(-1, -1, "", -1);
    private final KafkaBroker broker;

    OffsetFetchHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /** The committed offsets of one group for the requested partitions (null: all), grouped by topic in order. */
    private Map<String, Map<Integer, CommittedOffset>> fetch(RequestContext context, String groupId,
                                                             Map<String, List<Integer>> requested,
                                                             boolean requireStable) {
        List<TopicPartition> partitions = null;
        if (requested != null) {
            partitions = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> e : requested.entrySet()) {
                for (int p : e.getValue()) partitions.add(new TopicPartition(e.getKey(), p));
            }
        }
        Map<TopicPartition, CommittedOffset> found = broker.groups().fetchOffsets(groupId, partitions);
        Map<String, Map<Integer, CommittedOffset>> result = new LinkedHashMap<>();
        if (requested != null) {
            for (Map.Entry<String, List<Integer>> e : requested.entrySet()) {
                Map<Integer, CommittedOffset> byPartition = result.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>());
                boolean allowed = broker.authorization().topic(context, AclOperation.DESCRIBE, e.getKey());
                for (int p : e.getValue()) {
                    TopicPartition tp = new TopicPartition(e.getKey(), p);
                    byPartition.put(p, !allowed ? DENIED : requireStable && broker.groups().hasPendingTransactionalOffset(groupId, tp)
                            ? UNSTABLE : found.get(tp));
                }
            }
        } else {
            for (Map.Entry<TopicPartition, CommittedOffset> e : found.entrySet()) {
                // Asked for all, Kafka leaves out the topics the principal may not describe.
                if (!broker.authorization().topic(context, AclOperation.DESCRIBE, e.getKey().topic())) continue;
                boolean unstable = requireStable && broker.groups().hasPendingTransactionalOffset(groupId, e.getKey());
                result.computeIfAbsent(e.getKey().topic(), k -> new LinkedHashMap<>())
                        .put(e.getKey().partition(), unstable ? UNSTABLE : e.getValue());
            }
        }
        return result;
    }

    @Override
    public void handle(RequestContext context, OffsetFetchRequest request, Responder responder) {
        short version = context.apiVersion();
        OffsetFetchResponse response = new OffsetFetchResponse();
        if (version < 8) {
            Map<String, List<Integer>> requested = null;
            if (request.topics != null) {
                requested = new LinkedHashMap<>();
                for (OffsetFetchRequest.OffsetFetchRequestTopic t : request.topics) requested.put(t.name, t.partitionIndexes);
            }
            // A group whose offsets partition is not led here, or still loads, is not served here (Kafka's order).
            short refused = !broker.authorization().group(context, AclOperation.DESCRIBE, request.groupId)
                    ? GROUP_AUTHORIZATION_FAILED : broker.groups().coordinatorError(request.groupId);
            if (refused != NONE) {
                // Kafka's error response: the top-level code, and before v2 (which has none) each requested partition.
                response.errorCode = refused;
                if (version < 2 && requested != null) {
                    for (Map.Entry<String, List<Integer>> e : requested.entrySet()) {
                        OffsetFetchResponse.OffsetFetchResponseTopic topic = new OffsetFetchResponse.OffsetFetchResponseTopic();
                        topic.name = e.getKey();
                        for (int p : e.getValue()) {
                            OffsetFetchResponse.OffsetFetchResponsePartition partition =
                                    new OffsetFetchResponse.OffsetFetchResponsePartition();
                            partition.partitionIndex = p;
                            partition.committedOffset = -1;
                            partition.metadata = "";
                            partition.errorCode = refused;
                            topic.partitions.add(partition);
                        }
                        response.topics.add(topic);
                    }
                }
                responder.send(response);
                return;
            }
            for (Map.Entry<String, Map<Integer, CommittedOffset>> t : fetch(context, request.groupId, requested, version >= 7 && request.requireStable).entrySet()) {
                OffsetFetchResponse.OffsetFetchResponseTopic topic = new OffsetFetchResponse.OffsetFetchResponseTopic();
                topic.name = t.getKey();
                for (Map.Entry<Integer, CommittedOffset> p : t.getValue().entrySet()) {
                    OffsetFetchResponse.OffsetFetchResponsePartition partition =
                            new OffsetFetchResponse.OffsetFetchResponsePartition();
                    partition.partitionIndex = p.getKey();
                    CommittedOffset c = p.getValue();
                    partition.committedOffset = c == null ? -1 : c.offset();
                    partition.committedLeaderEpoch = c == null ? -1 : c.leaderEpoch();
                    partition.metadata = c == null ? "" : c.metadata();
                    if (c == UNSTABLE) partition.errorCode = UNSTABLE_OFFSET_COMMIT;
                    if (c == DENIED) partition.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    topic.partitions.add(partition);
                }
                response.topics.add(topic);
            }
        } else {
            for (OffsetFetchRequest.OffsetFetchRequestGroup g : request.groups) {
                Map<String, List<Integer>> requested = null;
                Map<String, UUID> ids = new LinkedHashMap<>();
                if (g.topics != null) {
                    requested = new LinkedHashMap<>();
                    for (OffsetFetchRequest.OffsetFetchRequestTopics t : g.topics) {
                        String name = t.name;
                        if (version >= 10) {
                            TopicInfo info = broker.metadata().topicById(t.topicId);
                            name = info == null ? t.topicId.toString() : info.name();
                            ids.put(name, t.topicId);
                        }
                        requested.put(name, t.partitionIndexes);
                    }
                }
                OffsetFetchResponse.OffsetFetchResponseGroup group = new OffsetFetchResponse.OffsetFetchResponseGroup();
                group.groupId = g.groupId;
                if (!broker.authorization().group(context, AclOperation.DESCRIBE, g.groupId)) {
                    group.errorCode = GROUP_AUTHORIZATION_FAILED;
                    response.groups.add(group);
                    continue;
                }
                short coordinatorError = broker.groups().coordinatorError(g.groupId);
                if (coordinatorError != NONE) {
                    group.errorCode = coordinatorError;
                    response.groups.add(group);
                    continue;
                }
                // v9+: a consumer group's member fetches at its current epoch (KIP-848), as Kafka checks it.
                short memberError = version >= 9
                        ? broker.consumerGroups().validateOffsetFetch(g.groupId, g.memberId, g.memberEpoch) : NONE;
                if (memberError != NONE) {
                    group.errorCode = memberError;
                    response.groups.add(group);
                    continue;
                }
                for (Map.Entry<String, Map<Integer, CommittedOffset>> t : fetch(context, g.groupId, requested, request.requireStable).entrySet()) {
                    OffsetFetchResponse.OffsetFetchResponseTopics topic =
                            new OffsetFetchResponse.OffsetFetchResponseTopics();
                    topic.name = t.getKey();
                    if (version >= 10) {
                        UUID id = ids.get(t.getKey());
                        if (id == null) {
                            TopicInfo info = broker.metadata().knownTopic(t.getKey());
                            id = info == null ? ZERO_UUID : info.id();
                        }
                        topic.topicId = id;
                    }
                    for (Map.Entry<Integer, CommittedOffset> p : t.getValue().entrySet()) {
                        OffsetFetchResponse.OffsetFetchResponsePartitions partition =
                                new OffsetFetchResponse.OffsetFetchResponsePartitions();
                        partition.partitionIndex = p.getKey();
                        CommittedOffset c = p.getValue();
                        partition.committedOffset = c == null ? -1 : c.offset();
                        partition.committedLeaderEpoch = c == null ? -1 : c.leaderEpoch();
                        partition.metadata = c == null ? "" : c.metadata();
                        if (c == UNSTABLE) partition.errorCode = UNSTABLE_OFFSET_COMMIT;
                        if (c == DENIED) partition.errorCode = TOPIC_AUTHORIZATION_FAILED;
                        topic.partitions.add(partition);
                    }
                    group.topics.add(topic);
                }
                response.groups.add(group);
            }
        }
        responder.send(response);
    }
}
