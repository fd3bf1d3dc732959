package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.MetadataResponse.MetadataResponseTopic;
import io.tandem.kafka.wire.message.MetadataResponse.MetadataResponsePartition;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.security.Authorization;
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
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Metadata: brokers, controller, cluster id and topics from this broker's cache, creating requested topics when
 * auto-creation is on (answered LEADER_NOT_AVAILABLE until their leaders are known, as Kafka 3.9 answers). As Kafka
 * 3.9's ZkMetadataCache, a topic and each of its partitions are known once the controller has given the partition a
 * state (its UpdateMetadata; nothing is read at start-up): a partition never given a leader (none of its replicas
 * was ever live) is not listed, and a topic without any such partition is unknown, also on the broker that created it.
 */
final class MetadataHandler implements ApiHandler<MetadataRequest> {
    private static final UUID ZERO_UUID = new UUID(0, 0);
    private final KafkaBroker broker;

    MetadataHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, MetadataRequest request, Responder responder) {
        short version = context.apiVersion();
        MetadataResponse response = new MetadataResponse();
        // One snapshot for the whole answer, as Kafka reads one MetadataSnapshot: its brokers and topics come from
        // the same controller request, never part of one.
        MetadataCache.Snapshot view = broker.metadata().snapshot();
        List<BrokerRegistration> live = view.liveBrokers();
        Set<Integer> liveIds = new HashSet<>();
        for (BrokerRegistration b : live) {
            liveIds.add(b.brokerId());
            // As Kafka: a broker without this listener is not listed (a client could not reach it here).
            var endpoint = b.endpoint(context.listenerName());
            if (endpoint == null) continue;
            MetadataResponse.MetadataResponseBroker entry = new MetadataResponse.MetadataResponseBroker();
            entry.nodeId = b.brokerId();
            entry.host = endpoint.host();
            entry.port = endpoint.port();
            entry.rack = b.rack();
            response.brokers.add(entry);
        }
        response.clusterId = broker.metadata().clusterId();
        response.controllerId = view.controllerId();
        // v0 asks for all topics with an empty list; v1+ with null.
        boolean allTopics = request.topics == null || (version == 0 && request.topics.isEmpty());
        if (allTopics) {
            // Kafka lists only the topics the principal may describe.
            for (TopicInfo topic : view.sortedTopics()) {
                if (announced(topic) && broker.authorization().topic(context, AclOperation.DESCRIBE, topic.name())) {
                    response.topics.add(describe(topic, liveIds));
                }
            }
        } else {
            boolean allowAutoCreate = broker.config().autoCreateTopics() && (version < 4 || request.allowAutoTopicCreation);
            for (MetadataRequest.MetadataRequestTopic wanted : request.topics) {
                response.topics.add(lookup(context, view, wanted, allowAutoCreate, liveIds));
            }
        }
        // Asked for (v8+), the operations the principal may do, as Kafka computes them (all of them without an
        // authorizer); topics the principal may not describe keep the default.
        if (version >= 8 && request.includeTopicAuthorizedOperations) {
            for (MetadataResponseTopic t : response.topics) {
                if (t.errorCode != TOPIC_AUTHORIZATION_FAILED && t.name != null) {
                    t.topicAuthorizedOperations = broker.authorization().authorizedOperations(context,
                            io.tandem.kafka.wire.acl.ResourceType.TOPIC, t.name, Authorization.TOPIC_OPERATIONS);
                }
            }
        }
        if (version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations) {
            response.clusterAuthorizedOperations = broker.authorization().authorizedOperations(context,
                    io.tandem.kafka.wire.acl.ResourceType.CLUSTER, io.tandem.kafka.wire.acl.ResourceType.CLUSTER_NAME,
                    Authorization.CLUSTER_OPERATIONS);
        }
        responder.send(response);
    }

    private MetadataResponseTopic lookup(RequestContext context, MetadataCache.Snapshot view,
                                         MetadataRequest.MetadataRequestTopic wanted, boolean allowAutoCreate,
                                         Set<Integer> liveIds) {
        Authorization authorization = broker.authorization();
        // A topic id, when given, wins over the name, as in Kafka: the Java 4.x consumer resolves the topic ids of a
        // KIP-848 assignment with the name left at its default "".
        if (wanted.name == null || (wanted.topicId != null && !wanted.topicId.equals(ZERO_UUID))) {
            TopicInfo byId = wanted.topicId == null ? null : view.topicById(wanted.topicId);
            // As Kafka's handleTopicMetadataRequest: an unknown id is UNKNOWN_TOPIC_ID; a known one the principal may
            // not describe is TOPIC_AUTHORIZATION_FAILED with the id ("topic IDs are not considered sensitive
            // information") and never the name.
            if (byId != null && !announced(byId)) byId = null;
            if (byId == null || !authorization.topic(context, AclOperation.DESCRIBE, byId.name())) {
                MetadataResponseTopic missing = new MetadataResponseTopic();
                missing.errorCode = byId == null ? UNKNOWN_TOPIC_ID : TOPIC_AUTHORIZATION_FAILED;
                missing.topicId = wanted.topicId == null ? ZERO_UUID : wanted.topicId;
                missing.name = null;
                return missing;
            }
            return describe(byId, liveIds);
        }
        MetadataResponseTopic missing = new MetadataResponseTopic();
        missing.name = wanted.name;
        missing.topicId = ZERO_UUID;
        if (!authorization.topic(context, AclOperation.DESCRIBE, wanted.name)) {
            missing.errorCode = TOPIC_AUTHORIZATION_FAILED;
            return missing;
        }
        // The cache only, as Kafka's MetadataCache: a topic this broker has not heard of (UpdateMetadata) is unknown
        // here until it does; reading ZooKeeper for it let any client make the broker read ZooKeeper per request.
        TopicInfo topic = view.topic(wanted.name);
        if (topic != null && announced(topic)) return describe(topic, liveIds);
        if (TopicNames.invalidReason(wanted.name) != null) {
            missing.errorCode = INVALID_TOPIC_EXCEPTION;
            return missing;
        }
        if (!allowAutoCreate) {
            missing.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
            missing.isInternal = TopicNames.isInternal(wanted.name);
            return missing;
        }
        if (!authorization.allowedOnCluster(context, AclOperation.CREATE)
                && !authorization.topic(context, AclOperation.CREATE, wanted.name)) {
            missing.errorCode = TOPIC_AUTHORIZATION_FAILED;
            return missing;
        }
        // Kafka 3.9 (ZooKeeper mode): the topic is written, an internal one with its own layout and configs, and the
        // answer is LEADER_NOT_AVAILABLE at once, without partitions; the client asks again once the controller has
        // elected the leaders. No thread waits for them (see BrokerTopics.autoCreate).
        missing.errorCode = broker.topics().autoCreate(wanted.name);
        missing.isInternal = TopicNames.isInternal(wanted.name);
        return missing;
    }

    /**
     * Whether the controller has given a partition of the topic a state, which is when Kafka's metadata cache first
     * holds the topic: a topic this broker only created, or read for the controller's LeaderAndIsr (which leaves
     * states to the UpdateMetadata that follows it), is not answered for yet.
     */
    private static boolean announced(TopicInfo topic) {
        return !topic.states().isEmpty();
    }

    private static MetadataResponseTopic describe(TopicInfo topic, Set<Integer> liveIds) {
        MetadataResponseTopic entry = new MetadataResponseTopic();
        entry.name = topic.name();
        entry.topicId = topic.id();
        entry.isInternal = TopicNames.isInternal(topic.name());
        for (Map.Entry<Integer, List<Integer>> e : topic.replicas().entrySet()) {
            PartitionState state = topic.states().get(e.getKey());
            // Kafka's cache lists only the partitions the controller has sent (UpdateMetadata): one never led (no
            // replica live to lead it), or added to the topic and not yet led, is left out. The cache takes each
            // UpdateMetadata whole, so a new topic's partitions appear together.
            if (state == null) continue;
            MetadataResponsePartition partition = new MetadataResponsePartition();
            partition.partitionIndex = e.getKey();
            int leader = state.leader();
            partition.leaderId = liveIds.contains(leader) ? leader : -1;
            partition.errorCode = partition.leaderId == -1 ? LEADER_NOT_AVAILABLE : NONE;
            partition.leaderEpoch = state.leaderEpoch();
            partition.replicaNodes = new ArrayList<>(e.getValue());
            partition.isrNodes = new ArrayList<>(state.isr());
            List<Integer> offline = new ArrayList<>();
            for (int r : e.getValue()) if (!liveIds.contains(r)) offline.add(r);
            partition.offlineReplicas = offline;
            entry.partitions.add(partition);
        }
        return entry;
    }
}
