package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.ControllerMutationQuota;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * CreateTopics: each topic validated and created on its own, with per-topic results; validate-only supported. As
 * Kafka 3.9's ZooKeeper-mode broker: a broker that is not the active controller answers NOT_CONTROLLER for every
 * topic (the Admin client then asks the controller); on the controller (ZkAdminManager.createTopics) the assignments
 * are written, then the answer waits, parked and holding no thread, until this broker's metadata cache has a leader
 * for every new partition or the request's timeoutMs passes ({@code BrokerTopics.whenLeadersKnown}); a topic still leaderless then, or every created
 * topic when timeoutMs is 0 or less (answered at once), is REQUEST_TIMED_OUT, though it was created.
 */
final class CreateTopicsHandler implements ApiHandler<CreateTopicsRequest> {
    private static final UUID ZERO_UUID = new UUID(0, 0);
    /** Kafka's KafkaApis: CreateTopics v6 and later understand THROTTLING_QUOTA_EXCEEDED (KIP-599). */
    private static final short STRICT_QUOTA_SINCE_VERSION = 6;
    private final KafkaBroker broker;

    CreateTopicsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, CreateTopicsRequest request, Responder responder) {
        CreateTopicsResponse response = new CreateTopicsResponse();
        ControllerMutationQuota quota = broker.clientQuotas().controllerMutationQuota(context,
                STRICT_QUOTA_SINCE_VERSION);
        if (!broker.controller().isElected()) {
            // Kafka 3.9 in ZooKeeper mode (KafkaApis.handleCreateTopicsRequest): only the active controller's broker
            // creates topics, before any other check; the Admin client refreshes its metadata and asks the controller.
            for (CreateTopicsRequest.CreatableTopic t : request.topics) {
                CreateTopicsResponse.CreatableTopicResult refused = new CreateTopicsResponse.CreatableTopicResult();
                refused.name = t.name;
                refused.topicId = ZERO_UUID;
                refused.errorCode = NOT_CONTROLLER;
                refused.configs = new ArrayList<>();
                response.topics.add(refused);
            }
            send(context, quota, response, responder);
            return;
        }
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new HashSet<>();
        for (CreateTopicsRequest.CreatableTopic t : request.topics) if (!seen.add(t.name)) duplicates.add(t.name);
        // Kafka: CREATE on the cluster, or else on each topic.
        boolean createAllowed = broker.authorization().allowedOnCluster(context, AclOperation.CREATE);
        // The topics written by this request, with their partitions, and their results: what the answer waits for.
        Map<String, Set<Integer>> created = new LinkedHashMap<>();
        Map<String, CreateTopicsResponse.CreatableTopicResult> createdResults = new LinkedHashMap<>();
        for (CreateTopicsRequest.CreatableTopic t : request.topics) {
            CreateTopicsResponse.CreatableTopicResult result = new CreateTopicsResponse.CreatableTopicResult();
            result.name = t.name;
            result.topicId = ZERO_UUID;
            ApiError error = ApiError.NONE;
            try {
                if (duplicates.contains(t.name)) {
                    throw new ApiException(INVALID_REQUEST, "Create topics request from client `" + context.clientId()
                            + "` contains multiple entries for the following topics: " + t.name);
                }
                if (!createAllowed && !broker.authorization().topic(context, AclOperation.CREATE, t.name)) {
                    throw new ApiException(TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
                }
                TopicInfo topic = create(t, request.validateOnly, quota);
                result.topicId = request.validateOnly ? ZERO_UUID : topic.id();
                if (!request.validateOnly) {
                    created.put(t.name, Set.copyOf(topic.replicas().keySet()));
                    createdResults.put(t.name, result);
                }
                // As Kafka: the topic's layout and configs only to a principal that may describe its configs.
                if (!broker.authorization().topic(context, AclOperation.DESCRIBE_CONFIGS, t.name)) {
                    result.topicConfigErrorCode = TOPIC_AUTHORIZATION_FAILED;
                } else {
                    result.numPartitions = topic.partitionCount();
                    result.replicationFactor = (short) topic.replicas().get(0).size();
                    result.configs = new ArrayList<>();
                    for (TopicConfigs.Value v : broker.topicConfigs().effective(topic.configs()).values()) {
                        CreateTopicsResponse.CreatableTopicConfigs c =
                                new CreateTopicsResponse.CreatableTopicConfigs();
                        c.name = v.name();
                        c.value = v.value();
                        c.configSource = v.source().code;
                        result.configs.add(c);
                    }
                }
            } catch (Exception e) {
                error = ApiError.of(e);
            }
            result.errorCode = error.code();
            result.errorMessage = error.message();
            response.topics.add(result);
        }
        if (created.isEmpty()) {
            send(context, quota, response, responder);
            return;
        }
        if (request.timeoutMs <= 0) {
            // Kafka answers at once then, each created topic REQUEST_TIMED_OUT whatever its leaders are by now.
            createdResults.values().forEach(CreateTopicsHandler::timedOut);
            send(context, quota, response, responder);
            return;
        }
        broker.topics().whenLeadersKnown(created, request.timeoutMs, leaderless -> {
            for (String name : leaderless) timedOut(createdResults.get(name));
            send(context, quota, response, responder);
        }, responder::fail);
    }

    /** The answer with the mutation quota's throttle time, measured now (Kafka's sendResponseMaybeThrottleWithControllerQuota). */
    private static void send(RequestContext context, ControllerMutationQuota quota, CreateTopicsResponse response,
                             Responder responder) {
        response.throttleTimeMs = ClientQuotas.throttleMutations(context, quota);
        responder.send(response);
    }

    /**
     * A created topic whose leaders were not all known in time: REQUEST_TIMED_OUT, with its layout and configs
     * cleared as Kafka's KafkaApis clears them for a result that is not NONE (the topic id stays).
     */
    private static void timedOut(CreateTopicsResponse.CreatableTopicResult result) {
        result.errorCode = REQUEST_TIMED_OUT;
        result.errorMessage = null;
        result.numPartitions = -1;
        result.replicationFactor = -1;
        result.configs = new ArrayList<>();
        result.topicConfigErrorCode = NONE;
    }

    /**
     * A manual assignment, checked as Kafka 3.9's ZooKeeper-mode CreateTopics checks it (ZkAdminManager.createTopics,
     * then AdminZkClient.validateTopicCreate), in its order and words: the same number of replicas everywhere, no
     * broker twice in a partition, partitions numbered 0 to n-1. Brokers that are not registered are allowed, as in
     * Kafka ("we don't check that replicaAssignment contains unknown brokers", as its TopicCommand): the controller
     * elects among the live replicas, and a partition none of whose replicas is live stays leaderless until one
     * registers. Empty replica lists are allowed too, as Kafka 3.9 allows them (seen against its broker): the topic is
     * written with partitions no broker hosts, no leader ever comes, the answer is REQUEST_TIMED_OUT (with the topic's
     * id) and Metadata never knows the topic; validate-only answers NONE with a replication factor of 0.
     */
    private static SortedMap<Integer, List<Integer>> replicaAssignment(
            List<CreateTopicsRequest.CreatableReplicaAssignment> assignments) {
        SortedMap<Integer, List<Integer>> assignment = new TreeMap<>();
        for (CreateTopicsRequest.CreatableReplicaAssignment a : assignments) {
            assignment.put(a.partitionIndex, new ArrayList<>(a.brokerIds));
        }
        if (assignment.values().stream().map(List::size).distinct().count() != 1) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT,
                    "All partitions should have the same number of replicas");
        }
        for (List<Integer> replicas : assignment.values()) {
            if (new HashSet<>(replicas).size() != replicas.size()) {
                throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Duplicate replica assignment found: " + assignment);
            }
        }
        if (!assignment.isEmpty() && (assignment.firstKey() != 0 || assignment.lastKey() != assignment.size() - 1)) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT,
                    "partitions should be a consecutive 0-based integer sequence");
        }
        return assignment;
    }

    /**
     * One topic, checked in Kafka 3.9's ZooKeeper-mode order (ZkAdminManager.createTopics): known to the cache, a
     * config without a value, both counts and an assignment given, then the placement (AdminUtils: counts of -1 take
     * the broker's defaults, then its partition, replication factor and rack checks), and only then
     * AdminZkClient.validateTopicCreate's checks: the name, a deletion request waiting, the topic in ZooKeeper, a
     * name colliding over '.' and '_', the assignment given and the configs. So "bad name!" with 0 partitions is
     * INVALID_PARTITIONS, and a topic marked for deletion is "marked for deletion" whatever its configs, as in Kafka.
     * Validate-only makes every check too, as Kafka does.
     */
    private TopicInfo create(CreateTopicsRequest.CreatableTopic t, boolean validateOnly, ControllerMutationQuota quota)
            throws Exception {
        // Kafka's first check reads its cache only (metadataCache.contains): any name, "..", is looked up safely.
        // ZooKeeper is read for the name after the name's own check, as AdminZkClient reads it (createTopic).
        if (broker.metadata().knownTopic(t.name) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + t.name + "' already exists.");
        }
        // Kafka refuses a config sent without a value (it would not fit its Properties), every such name in order.
        List<String> nullConfigs = t.configs.stream().filter(c -> c.value == null).map(c -> c.name).toList();
        if (!nullConfigs.isEmpty()) {
            throw new ApiException(INVALID_CONFIG,
                    "Null value not supported for topic configs: " + String.join(",", nullConfigs));
        }
        int partitions = t.numPartitions;
        int replication = t.replicationFactor;
        if (!t.assignments.isEmpty() && (partitions != -1 || replication != -1)) {
            throw new ApiException(INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments "
                    + "were set. Both cannot be used at the same time.");
        }
        SortedMap<Integer, List<Integer>> placed = null;
        if (t.assignments.isEmpty()) {
            if (partitions == -1) partitions = broker.config().numPartitions();
            if (replication == -1) replication = broker.config().defaultReplicationFactor();
            placed = broker.metadata().placeNewTopic(partitions, replication);
        }
        String invalid = TopicNames.invalidReason(t.name);
        if (invalid != null) throw new ApiException(INVALID_TOPIC_EXCEPTION, invalid);
        broker.metadata().checkNewTopicName(t.name);
        SortedMap<Integer, List<Integer>> assignment = placed != null ? placed : replicaAssignment(t.assignments);
        Map<String, String> configs = new LinkedHashMap<>();
        for (CreateTopicsRequest.CreatableTopicConfig c : t.configs) {
            String reason = TopicConfigs.invalidReason(c.name, c.value);
            if (reason != null) throw new ApiException(INVALID_CONFIG, reason);
            configs.put(c.name, c.value);
        }
        String conflict = broker.topicConfigs().conflict(configs);
        if (conflict != null) throw new ApiException(INVALID_CONFIG, conflict);
        // Every check passed: the partitions are charged (or the topic refused) just before the write, as Kafka's.
        if (!validateOnly) quota.record(assignment.size());
        return broker.topics().writeTopic(t.name, partitions, replication, assignment, configs, validateOnly);
    }
}
