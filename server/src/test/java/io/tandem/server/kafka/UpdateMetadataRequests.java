package io.tandem.server.kafka;

import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataBroker;
import io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataEndpoint;
import io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataPartitionState;
import io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataTopicState;
import java.util.ArrayList;
import java.util.List;

/**
 * UpdateMetadata requests as a ZooKeeper-mode controller sends them, built piece by piece for the tests that play the
 * controller: the request, its live brokers, its topics and their partitions' states.
 */
public final class UpdateMetadataRequests {
    private UpdateMetadataRequests() {
    }

    /** An empty request of controller {@code controllerId} at {@code controllerEpoch}, with no broker epoch (-1). */
    public static UpdateMetadataRequest request(int controllerId, int controllerEpoch) {
        UpdateMetadataRequest request = new UpdateMetadataRequest();
        request.controllerId = controllerId;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = -1;
        return request;
    }

    /** Adds live broker {@code id} with one PLAINTEXT endpoint. */
    public static void liveBroker(UpdateMetadataRequest request, int id, String host, int port) {
        UpdateMetadataBroker broker = new UpdateMetadataBroker();
        broker.id = id;
        UpdateMetadataEndpoint endpoint = new UpdateMetadataEndpoint();
        endpoint.host = host;
        endpoint.port = port;
        endpoint.listener = "PLAINTEXT";
        endpoint.securityProtocol = 0;
        broker.endpoints.add(endpoint);
        request.liveBrokers.add(broker);
    }

    /** Adds topic {@code name} (no topic id) and returns it, for its partitions. */
    public static UpdateMetadataTopicState topic(UpdateMetadataRequest request, String name) {
        UpdateMetadataTopicState topic = new UpdateMetadataTopicState();
        topic.topicName = name;
        request.topicStates.add(topic);
        return topic;
    }

    /** Adds the state of partition {@code index} with every replica in sync and none offline. */
    public static void partition(UpdateMetadataTopicState topic, int index, int controllerEpoch, int leader,
                                 int leaderEpoch, int zkVersion, List<Integer> replicas) {
        UpdateMetadataPartitionState state = new UpdateMetadataPartitionState();
        state.partitionIndex = index;
        state.controllerEpoch = controllerEpoch;
        state.leader = leader;
        state.leaderEpoch = leaderEpoch;
        state.isr = new ArrayList<>(replicas);
        state.zkVersion = zkVersion;
        state.replicas = new ArrayList<>(replicas);
        state.offlineReplicas = new ArrayList<>();
        topic.partitionStates.add(state);
    }
}
