package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.ControllerMutationQuota;
import io.tandem.storage.log.LogSlice;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * CreatePartitions: a result per topic; new partitions placed as the request says or, without an assignment, by
 * Kafka 3.9's rule over the registered brokers, continuing the topic's round-robin (see
 * {@link io.tandem.server.kafka.metadata.ClusterMetadata#createPartitions}).
 * A broker that is not the active controller answers NOT_CONTROLLER for every topic, as Kafka 3.9's ZooKeeper-mode
 * broker does.
 * The answer waits as CreateTopics' does (Kafka 3.9's ZkAdminManager.createPartitions parks it the same way): until
 * this broker's metadata cache has a leader for every partition of each grown topic, or timeoutMs (REQUEST_TIMED_OUT
 * for a topic still missing one; at once, for every grown topic, when timeoutMs is 0 or less).
 * Each topic grown is charged its new partitions against the client's controller_mutation_rate (KIP-599) once its
 * new assignment is known good and before it is written, as ZkAdminManager.createPartitions charges it: from v3 a
 * topic asked for while the quota is exhausted is THROTTLING_QUOTA_EXCEEDED and not grown, below v3 every topic is
 * grown; the answer carries the throttle time and the connection is muted for it.
 */
final class CreatePartitionsHandler implements ApiHandler<CreatePartitionsRequest> {
    /** Kafka's KafkaApis: CreatePartitions v3 and later understand THROTTLING_QUOTA_EXCEEDED (KIP-599). */
    private static final short STRICT_QUOTA_SINCE_VERSION = 3;
    private final KafkaBroker broker;

    CreatePartitionsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, CreatePartitionsRequest request, Responder responder) {
        CreatePartitionsResponse response = new CreatePartitionsResponse();
        ControllerMutationQuota quota = broker.clientQuotas().controllerMutationQuota(context,
                STRICT_QUOTA_SINCE_VERSION);
        // Every answer, whichever path sends it, carries the mutation quota's throttle time measured when it goes.
        Responder answer = new Responder() {
            @Override
            public void send(ApiMessage message) {
                response.throttleTimeMs = ClientQuotas.throttleMutations(context, quota);
                responder.send(message);
            }

            @Override
            public void sendWithFileRecords(ApiMessage message, List<LogSlice> slices) {
                responder.sendWithFileRecords(message, slices);
            }

            @Override
            public void noResponse() {
                responder.noResponse();
            }

            @Override
            public void fail(Throwable error) {
                responder.fail(error);
            }
        };
        handle(context, request, response, quota, answer);
    }

    private void handle(RequestContext context, CreatePartitionsRequest request, CreatePartitionsResponse response,
                        ControllerMutationQuota quota, Responder responder) {
        if (!broker.controller().isElected()) {
            // Kafka 3.9 in ZooKeeper mode (KafkaApis.handleCreatePartitionsRequest): only the active controller's
            // broker adds partitions, before any other check; the Admin client asks the controller instead. A name
            // given twice is answered once, as Kafka's map of results answers it.
            Set<String> names = new java.util.LinkedHashSet<>();
            for (CreatePartitionsRequest.CreatePartitionsTopic t : request.topics) names.add(t.name);
            for (String name : names) {
                CreatePartitionsResponse.CreatePartitionsTopicResult refused =
                        new CreatePartitionsResponse.CreatePartitionsTopicResult();
                refused.name = name;
                refused.errorCode = NOT_CONTROLLER;
                refused.errorMessage = null;
                response.results.add(refused);
            }
            responder.send(response);
            return;
        }
        // Kafka 3.9's ZkAdminManager.createPartitions reads the registered brokers (/brokers/ids, not the cache)
        // once, before any topic, and refuses there when only some have a rack (its rack-aware mode is enforced).
        List<KafkaZkLayout.BrokerRegistration> brokers;
        try {
            brokers = broker.metadata().readRegisteredBrokers();
        } catch (Exception e) {
            failWhole(request, response, responder);
            return;
        }
        long racked = brokers.stream().filter(b -> b.rack() != null).count();
        if (racked > 0 && racked < brokers.size()) {
            failWhole(request, response, responder);
            return;
        }
        Set<String> seen = new HashSet<>();
        Map<String, Set<Integer>> grown = new LinkedHashMap<>();
        Map<String, CreatePartitionsResponse.CreatePartitionsTopicResult> grownResults = new LinkedHashMap<>();
        for (CreatePartitionsRequest.CreatePartitionsTopic t : request.topics) {
            CreatePartitionsResponse.CreatePartitionsTopicResult result = new CreatePartitionsResponse.CreatePartitionsTopicResult();
            result.name = t.name;
            try {
                if (!seen.add(t.name)) throw new ApiException(INVALID_REQUEST, "Duplicate topic in request.");
                if (!broker.authorization().topic(context, AclOperation.ALTER, t.name)) {
                    throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
                }
                SortedMap<Integer, List<Integer>> updated = grow(t, brokers, request.validateOnly, quota);
                if (!request.validateOnly) {
                    grown.put(t.name, Set.copyOf(updated.keySet()));
                    grownResults.put(t.name, result);
                }
            } catch (UnplaceablePartitions e) {
                // The topics before this one were grown and those after it were not looked at.
                failWhole(request, response, responder);
                return;
            } catch (Exception e) {
                ApiError error = ApiError.of(e);
                result.errorCode = error.code();
                result.errorMessage = error.message();
            }
            response.results.add(result);
        }
        if (grown.isEmpty()) {
            responder.send(response);
            return;
        }
        if (request.timeoutMs <= 0) {
            grownResults.values().forEach(result -> result.errorCode = REQUEST_TIMED_OUT);
            responder.send(response);
            return;
        }
        broker.topics().whenLeadersKnown(grown, request.timeoutMs, leaderless -> {
            for (String name : leaderless) grownResults.get(name).errorCode = REQUEST_TIMED_OUT;
            responder.send(response);
        }, responder::fail);
    }

    /**
     * Kafka 3.9's request failing as a whole (an exception out of ZkAdminManager.createPartitions, which KafkaApis
     * answers with CreatePartitionsRequest.getErrorResponse): every topic of the request UNKNOWN_SERVER_ERROR without
     * a message.
     */
    private static void failWhole(CreatePartitionsRequest request, CreatePartitionsResponse response,
                                  Responder responder) {
        response.results.clear();
        for (CreatePartitionsRequest.CreatePartitionsTopic any : request.topics) {
            CreatePartitionsResponse.CreatePartitionsTopicResult failed =
                    new CreatePartitionsResponse.CreatePartitionsTopicResult();
            failed.name = any.name;
            failed.errorCode = UNKNOWN_SERVER_ERROR;
            failed.errorMessage = null;
            response.results.add(failed);
        }
        responder.send(response);
    }

    /**
     * A topic without replicas (created with empty replica lists, as Kafka 3.9 allows) grown without an assignment:
     * Kafka's AdminZkClient takes the first replica of partition 0 to place the new partitions, and that failure is not
     * one its ZkAdminManager answers per topic.
     */
    private static final class UnplaceablePartitions extends Exception {
        UnplaceablePartitions() {
            super(null, null, false, false);
        }
    }

    /**
     * Grows one topic as Kafka 3.9's ZkAdminManager.createPartitions does, with its checks in its order and words:
     * the assignment read from ZooKeeper (not the cache: a topic no replica of which is live, never announced by the
     * controller, is grown all the same), a reassignment in progress, a count that does not grow the topic, then the
     * request's own assignment. Returns the topic's whole new assignment (written unless {@code validateOnly}).
     */
    private SortedMap<Integer, List<Integer>> grow(CreatePartitionsRequest.CreatePartitionsTopic t,
                                                  List<KafkaZkLayout.BrokerRegistration> brokers, boolean validateOnly,
                                                  ControllerMutationQuota quota)
            throws Exception {
        TopicAssignment existing = broker.metadata().storedAssignment(t.name);
        if (existing == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + t.name + "' does not exist.");
        boolean moving = existing.adding().values().stream().anyMatch(r -> !r.isEmpty())
                || existing.removing().values().stream().anyMatch(r -> !r.isEmpty());
        if (moving) {
            throw new ApiException(REASSIGNMENT_IN_PROGRESS, "A partition reassignment is in progress for the topic '"
                    + t.name + "'.");
        }
        int current = existing.partitionCount();
        if (t.count < current) {
            throw new ApiException(INVALID_PARTITIONS, "Topic currently has " + current
                    + " partitions, which is higher than the requested " + t.count + ".");
        }
        if (t.count == current) throw new ApiException(INVALID_PARTITIONS, "Topic already has " + current + " partitions.");
        List<List<Integer>> assignment = checkAssignments(t, existing, brokers);
        if (assignment == null && existing.replicas().get(0).isEmpty()) throw new UnplaceablePartitions();
        if (!validateOnly && quota.enabled()) {
            // Kafka charges the new partitions once their placement is known good (createNewPartitionsAssignment):
            // placed as a dry run first, so a placement that fails charges nothing.
            broker.metadata().createPartitions(t.name, existing, t.count, assignment, brokers, true);
            quota.record(t.count - current);
        }
        return broker.metadata().createPartitions(t.name, existing, t.count, assignment, brokers, validateOnly);
    }

    /**
     * The replicas of each new partition when the request gives them, checked as Kafka 3.9's ZooKeeper-mode admin
     * path does (ZkAdminManager.createPartitions, then AdminZkClient's validateReplicaAssignment) and in its order:
     * brokers that are not registered, one assignment per new partition (an empty list is not the same as none), no
     * empty or repeated replica list, and the replication factor of partition 0. Null when the request gives none.
     */
    private List<List<Integer>> checkAssignments(CreatePartitionsRequest.CreatePartitionsTopic t,
                                                 TopicAssignment topic,
                                                 List<KafkaZkLayout.BrokerRegistration> brokers) {
        if (t.assignments == null) return null;
        Set<Integer> live = new HashSet<>();
        brokers.forEach(b -> live.add(b.brokerId()));
        Set<Integer> unknown = new TreeSet<>();
        List<List<Integer>> assignment = new ArrayList<>();
        for (CreatePartitionsRequest.CreatePartitionsAssignment a : t.assignments) {
            for (Integer id : a.brokerIds) if (!live.contains(id)) unknown.add(id);
            assignment.add(new ArrayList<>(a.brokerIds));
        }
        if (!unknown.isEmpty()) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Unknown broker(s) in replica assignment: "
                    + join(unknown) + ".");
        }
        int current = topic.partitionCount();
        int increase = t.count - current;
        if (assignment.size() != increase) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Increasing the number of partitions by " + increase
                    + " but " + assignment.size() + " assignments provided.");
        }
        int replicationFactor = topic.replicas().get(0).size();
        List<Integer> badPartitions = new ArrayList<>();
        List<Integer> badFactors = new ArrayList<>();
        for (int i = 0; i < assignment.size(); i++) {
            List<Integer> replicas = assignment.get(i);
            int partition = current + i;
            if (replicas.isEmpty()) {
                throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Cannot have replication factor of 0 for partition id "
                        + partition + ".");
            }
            if (new HashSet<>(replicas).size() != replicas.size()) {
                throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Duplicate brokers not allowed in replica assignment: "
                        + join(replicas) + " for partition id " + partition + ".");
            }
            if (replicas.size() != replicationFactor) {
                badPartitions.add(partition);
                badFactors.add(replicas.size());
            }
        }
        if (!badPartitions.isEmpty()) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Inconsistent replication factor between partitions, "
                    + "partition 0 has " + replicationFactor + " while partitions [" + join(badPartitions)
                    + "] have replication factors [" + join(badFactors) + "], respectively.");
        }
        return assignment;
    }

    private static String join(Collection<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
