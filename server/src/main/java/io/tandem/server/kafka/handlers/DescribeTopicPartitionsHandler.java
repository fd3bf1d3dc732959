package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Primitives;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsRequest;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsResponse;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DescribeTopicPartitions (KIP-966), which the Java 4.x AdminClient's describeTopics uses: topics in name order,
 * paged by a partition limit and a cursor, as Kafka 4.x's DescribeTopicPartitionsRequestHandler and its metadata
 * cache answer it. The page holds at most min(ResponsePartitionLimit, 2000) partitions; a topic cut short ends the
 * page with NextCursor at its first partition left out, and a page that fills up exactly before the next topic
 * ends with NextCursor at that topic's partition 0 (which need not exist). Without an authorizer every topic is
 * visible and carries all topic operations, as in Kafka.
 *
 * <p>Kafka 3.9 in ZooKeeper mode refuses this API (INVALID_REQUEST: "ZK cluster does not handle
 * DescribeTopicPartitions request", and leaves it out of ApiVersions); Tandem serves the union of 3.9 and 4.x, so it
 * answers as 4.x's KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse does, from one snapshot of the cache
 * (topics and live brokers of the same UpdateMetadata). A topic's partitions there are those the controller has given
 * a state, as a topic's partitions in Kafka's metadata image (a partition never led is not there, as in Metadata),
 * and a topic with none is unknown, as in Metadata.
 */
final class DescribeTopicPartitionsHandler implements ApiHandler<DescribeTopicPartitionsRequest> {
    /** Kafka's max.request.partition.size.limit default: the most partitions one response holds. */
    static final int RESPONSE_PARTITIONS_MAX = 2000;
    /** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: every topic operation. */
    static final int TOPIC_OPERATIONS_ALL = io.tandem.server.kafka.security.Authorization.TOPIC_OPERATIONS;
    private final KafkaBroker broker;

    DescribeTopicPartitionsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeTopicPartitionsRequest request, Responder responder) {
        boolean allTopics = request.topics.isEmpty();
        DescribeTopicPartitionsRequest.Cursor cursor = request.cursor;
        String cursorTopic = cursor == null ? "" : cursor.topicName;
        // One snapshot for the whole answer: its topics and live brokers come from the same controller request.
        MetadataCache.Snapshot view = broker.metadata().snapshot();
        Set<String> wanted = new TreeSet<>();
        if (allTopics) {
            for (TopicInfo topic : view.sortedTopics()) {
                if (topic.name().compareTo(cursorTopic) >= 0) wanted.add(topic.name());
            }
        } else {
            for (DescribeTopicPartitionsRequest.TopicRequest topic : request.topics) {
                if (topic.name.compareTo(cursorTopic) >= 0) wanted.add(topic.name);
            }
            if (cursor != null && !wanted.contains(cursor.topicName)) {
                responder.send(invalidRequest(request));
                return;
            }
        }
        if (cursor != null && cursor.partitionIndex < 0) {
            responder.send(invalidRequest(request));
            return;
        }
        // As Kafka's getAliveEndpoint and getOfflineReplicas: a broker is a partition's leader, and a replica online,
        // only if it is live and has the listener the request came in on.
        Set<Integer> reachable = new HashSet<>();
        for (BrokerRegistration b : view.liveBrokers()) {
            if (b.endpoint(context.listenerName()) != null) reachable.add(b.brokerId());
        }
        int remaining = Math.max(Math.min(RESPONSE_PARTITIONS_MAX, request.responsePartitionLimit), 1);
        DescribeTopicPartitionsResponse response = new DescribeTopicPartitionsResponse();
        for (String name : wanted) {
            if (remaining == 0) {
                response.nextCursor = cursor(name, 0);
                break;
            }
            if (!broker.authorization().topic(context, AclOperation.DESCRIBE, name)) {
                // As Metadata: hidden from a listing, TOPIC_AUTHORIZATION_FAILED when named.
                if (!allTopics) {
                    DescribeTopicPartitionsResponseTopic refused = missing(name);
                    refused.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    // Kafka reports no operations (its field's default) on a topic the principal may not describe.
                    refused.topicAuthorizedOperations = Integer.MIN_VALUE;
                    response.topics.add(refused);
                }
                continue;
            }
            TopicInfo topic = view.topic(name);
            if (topic == null || topic.states().isEmpty()) {
                // Only named topics are reported missing; a listing of all topics skips one deleted meanwhile.
                if (!allTopics) response.topics.add(missing(name));
                continue;
            }
            int start = name.equals(cursorTopic) ? cursor.partitionIndex : 0;
            // Kafka lists the partition ids from the cursor's up to the limit, those of its image only, and puts the
            // cursor at the first one left out; here the image's partitions are those with a state (sorted, and any
            // id without one skipped rather than ending the topic, which a dense KRaft image never has).
            List<Integer> ids = new ArrayList<>();
            for (int p : new TreeSet<>(topic.states().keySet())) {
                if (p >= start && topic.replicas().containsKey(p)) ids.add(p);
            }
            int end = Math.min(ids.size(), remaining);
            DescribeTopicPartitionsResponseTopic entry = new DescribeTopicPartitionsResponseTopic();
            entry.name = name;
            entry.topicId = topic.id();
            entry.isInternal = TopicNames.isInternal(name);
            entry.topicAuthorizedOperations = broker.authorization().authorizedOperations(context,
                    io.tandem.kafka.wire.acl.ResourceType.TOPIC, name, TOPIC_OPERATIONS_ALL);
            for (int p : ids.subList(0, end)) {
                entry.partitions.add(partition(p, topic.replicas().get(p), topic.states().get(p), reachable));
            }
            response.topics.add(entry);
            if (end < ids.size()) {
                response.nextCursor = cursor(name, ids.get(end));
                break;
            }
            remaining -= entry.partitions.size();
        }
        responder.send(response);
    }

    private static DescribeTopicPartitionsResponsePartition partition(int index, List<Integer> replicas,
                                                                      PartitionState state, Set<Integer> live) {
        DescribeTopicPartitionsResponsePartition partition = new DescribeTopicPartitionsResponsePartition();
        partition.partitionIndex = index;
        partition.leaderId = live.contains(state.leader()) ? state.leader() : -1;
        partition.leaderEpoch = state.leaderEpoch();
        partition.replicaNodes = new ArrayList<>(replicas);
        partition.isrNodes = new ArrayList<>(state.isr());
        // No eligible leader replicas (KIP-966) in ZooKeeper mode: empty, as Kafka sends with ELR off.
        partition.eligibleLeaderReplicas = new ArrayList<>();
        partition.lastKnownElr = new ArrayList<>();
        for (int r : replicas) if (!live.contains(r)) partition.offlineReplicas.add(r);
        return partition;
    }

    private static DescribeTopicPartitionsResponseTopic missing(String name) {
        DescribeTopicPartitionsResponseTopic entry = new DescribeTopicPartitionsResponseTopic();
        entry.errorCode = TopicNames.invalidReason(name) == null ? UNKNOWN_TOPIC_OR_PARTITION : INVALID_TOPIC_EXCEPTION;
        entry.name = name;
        entry.topicId = Primitives.ZERO_UUID;
        entry.isInternal = TopicNames.isInternal(name);
        entry.topicAuthorizedOperations = TOPIC_OPERATIONS_ALL;
        return entry;
    }

    private static DescribeTopicPartitionsResponse.Cursor cursor(String topic, int partition) {
        DescribeTopicPartitionsResponse.Cursor cursor = new DescribeTopicPartitionsResponse.Cursor();
        cursor.topicName = topic;
        cursor.partitionIndex = partition;
        return cursor;
    }

    /** Kafka's error answer to a bad cursor: every named topic with INVALID_REQUEST and nothing else. */
    private static DescribeTopicPartitionsResponse invalidRequest(DescribeTopicPartitionsRequest request) {
        DescribeTopicPartitionsResponse response = new DescribeTopicPartitionsResponse();
        for (DescribeTopicPartitionsRequest.TopicRequest topic : request.topics) {
            DescribeTopicPartitionsResponseTopic entry = new DescribeTopicPartitionsResponseTopic();
            entry.errorCode = INVALID_REQUEST;
            entry.name = topic.name;
            entry.topicId = Primitives.ZERO_UUID;
            response.topics.add(entry);
        }
        return response;
    }
}
