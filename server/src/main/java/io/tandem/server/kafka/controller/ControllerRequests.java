package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.replica.ReplicaManager;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The controller's requests to brokers, built from {@link ControllerState} as Kafka 3.9's controller builds them:
 * LeaderAndIsr (v6) to a partition's replicas, UpdateMetadata (v7) to every broker, StopReplica (v3) to replicas
 * that go. Sent through a {@link ControllerTransport}, in order per broker.
 */
final class ControllerRequests {
    static final short LEADER_AND_ISR_VERSION = 6;
    static final short UPDATE_METADATA_VERSION = 7;
    static final short STOP_REPLICA_VERSION = 3;
    /** StopReplica's leader epoch for a replica being deleted (Kafka's LeaderAndIsr.EpochDuringDelete). */
    static final int LEADER_EPOCH_DURING_DELETE = -2;

    private final int localBrokerId;
    private final ControllerState cluster;
    private final ControllerTransport channels;

    ControllerRequests(int localBrokerId, ControllerState cluster, ControllerTransport channels) {
        this.localBrokerId = localBrokerId;
        this.cluster = cluster;
        this.channels = channels;
    }

    /**
     * LeaderAndIsr for the broker's {@code partitions}; {@code full}: they are every partition it hosts (Kafka's FULL
     * type), so the broker deletes the logs of any other (see ReplicaManager), and it is sent even when empty.
     */
    void leaderAndIsr(int broker, List<TopicPartition> partitions, boolean full) {
        if (partitions.isEmpty() && !full) return;
        var request = new io.tandem.kafka.wire.message.LeaderAndIsrRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = cluster.epoch;
        request.brokerEpoch = cluster.brokerEpoch(broker);
        request.type = full ? ReplicaManager.LEADER_AND_ISR_FULL : ReplicaManager.LEADER_AND_ISR_INCREMENTAL;
        Map<String, io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrTopicState> byTopic = new LinkedHashMap<>();
        Set<Integer> leaders = new HashSet<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = cluster.states.get(tp);
            if (state == null) continue;
            var topicState = byTopic.computeIfAbsent(tp.topic(), name -> {
                var t = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrTopicState();
                t.topicName = name;
                t.topicId = cluster.topics.get(name).topicId();
                return t;
            });
            var ps = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState();
            ps.partitionIndex = tp.partition();
            ps.controllerEpoch = state.controllerEpoch();
            ps.leader = state.leader();
            ps.leaderEpoch = state.leaderEpoch();
            ps.isr = new ArrayList<>(state.isr());
            ps.partitionEpoch = state.zkVersion();
            ps.replicas = new ArrayList<>(cluster.topics.get(tp.topic()).replicas().get(tp.partition()));
            topicState.partitionStates.add(ps);
            leaders.add(state.leader());
        }
        request.topicStates.addAll(byTopic.values());
        for (int leader : leaders) {
            BrokerRegistration b = cluster.live.get(leader);
            if (b == null) continue;
            var l = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrLiveLeader();
            l.brokerId = b.brokerId();
            l.hostName = b.host();
            l.port = b.port();
            request.liveLeaders.add(l);
        }
        channels.send(broker, ApiKey.LEADER_AND_ISR, LEADER_AND_ISR_VERSION, request);
    }

    void updateMetadata(Collection<Integer> brokers, Collection<TopicPartition> partitions) {
        updateMetadata(brokers, partitions, cluster.states::get, cluster.topics::get);
    }

    /** UpdateMetadata with the partitions' states and assignments taken from {@code states} and {@code topics}. */
    void updateMetadata(Collection<Integer> brokers, Collection<TopicPartition> partitions,
                        java.util.function.Function<TopicPartition, PartitionState> states,
                        java.util.function.Function<String, TopicAssignment> topics) {
        var request = new io.tandem.kafka.wire.message.UpdateMetadataRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = cluster.epoch;
        for (BrokerRegistration b : cluster.live.values()) {
            var broker = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataBroker();
            broker.id = b.brokerId();
            broker.rack = b.rack();
            for (var listener : b.endpoints()) {
                var endpoint = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataEndpoint();
                endpoint.host = listener.host();
                endpoint.port = listener.port();
                endpoint.listener = listener.listenerName();
                endpoint.securityProtocol = listener.securityProtocolId();
                broker.endpoints.add(endpoint);
            }
            request.liveBrokers.add(broker);
        }
        Map<String, io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataTopicState> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = states.apply(tp);
            TopicAssignment assignment = topics.apply(tp.topic());
            if (state == null || assignment == null) continue;
            var topicState = byTopic.computeIfAbsent(tp.topic(), name -> {
                var t = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataTopicState();
                t.topicName = name;
                t.topicId = assignment.topicId();
                return t;
            });
            var ps = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataPartitionState();
            ps.partitionIndex = tp.partition();
            ps.controllerEpoch = state.controllerEpoch();
            ps.leader = state.leader();
            ps.leaderEpoch = state.leaderEpoch();
            ps.isr = new ArrayList<>(state.isr());
            ps.zkVersion = state.zkVersion();
            List<Integer> replicas = assignment.replicas().get(tp.partition());
            ps.replicas = new ArrayList<>(replicas);
            ps.offlineReplicas = new ArrayList<>(replicas.stream().filter(r -> !cluster.live.containsKey(r)).toList());
            topicState.partitionStates.add(ps);
        }
        request.topicStates.addAll(byTopic.values());
        for (int broker : brokers) {
            // One request per broker, naming its epoch; the broker and partition lists are shared, never changed.
            var addressed = new io.tandem.kafka.wire.message.UpdateMetadataRequest();
            addressed.controllerId = request.controllerId;
            addressed.controllerEpoch = request.controllerEpoch;
            addressed.brokerEpoch = cluster.brokerEpoch(broker);
            addressed.liveBrokers = request.liveBrokers;
            addressed.topicStates = request.topicStates;
            channels.send(broker, ApiKey.UPDATE_METADATA, UPDATE_METADATA_VERSION, addressed);
        }
    }

    void stopReplica(int broker, TopicPartition tp, boolean delete) {
        stopReplicas(broker, tp.topic(), List.of(tp.partition()), delete);
    }

    /** StopReplica for some partitions of one topic on one broker; completes with what became of it. */
    java.util.concurrent.CompletableFuture<ControllerTransport.Outcome> stopReplicas(int broker, String topic,
            List<Integer> partitions, boolean delete) {
        return stopReplicas(broker, Map.of(topic, partitions), delete);
    }

    /**
     * StopReplica for some partitions of several topics on one broker, in one request (as Kafka's controller batches
     * a deletion's replicas per broker); completes with what became of it.
     */
    java.util.concurrent.CompletableFuture<ControllerTransport.Outcome> stopReplicas(int broker,
            Map<String, List<Integer>> partitionsByTopic, boolean delete) {
        var request = new io.tandem.kafka.wire.message.StopReplicaRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = cluster.epoch;
        request.brokerEpoch = cluster.brokerEpoch(broker);
        partitionsByTopic.forEach((topic, partitions) -> {
            var state = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState();
            state.topicName = topic;
            for (int partition : partitions) {
                var ps = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaPartitionState();
                ps.partitionIndex = partition;
                ps.leaderEpoch = LEADER_EPOCH_DURING_DELETE;
                ps.deletePartition = delete;
                state.partitionStates.add(ps);
            }
            request.topicStates.add(state);
        });
        return channels.send(broker, ApiKey.STOP_REPLICA, STOP_REPLICA_VERSION, request);
    }

    /** StopReplica with delete to every live replica of a deleted topic, one request per broker. */
    void stopReplicasDeleting(String topic, TopicAssignment assignment) {
        Map<Integer, io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState> byBroker = new HashMap<>();
        assignment.replicas().forEach((p, replicas) -> {
            for (int broker : replicas) {
                if (!cluster.live.containsKey(broker)) continue;
                var state = byBroker.computeIfAbsent(broker, b -> {
                    var t = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState();
                    t.topicName = topic;
                    return t;
                });
                var ps = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaPartitionState();
                ps.partitionIndex = p;
                ps.leaderEpoch = LEADER_EPOCH_DURING_DELETE;
                ps.deletePartition = true;
                state.partitionStates.add(ps);
            }
        });
        byBroker.forEach((broker, state) -> {
            var request = new io.tandem.kafka.wire.message.StopReplicaRequest();
            request.controllerId = localBrokerId;
            request.controllerEpoch = cluster.epoch;
            request.brokerEpoch = cluster.brokerEpoch(broker);
            request.topicStates.add(state);
            channels.send(broker, ApiKey.STOP_REPLICA, STOP_REPLICA_VERSION, request);
        });
    }
}
