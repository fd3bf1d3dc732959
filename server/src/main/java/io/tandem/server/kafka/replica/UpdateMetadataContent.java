package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.PartitionState;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What one UpdateMetadata says, read out of its wire form (every version's broker endpoints, grouped or ungrouped
 * partition states): the live brokers, each partition's new state, and the topics being deleted (Kafka's
 * leader-during-delete mark, {@link ReplicaManager#LEADER_DURING_DELETE}).
 */
record UpdateMetadataContent(List<BrokerRegistration> brokers, List<MetadataCache.PartitionUpdate> updates,
                             Set<String> deleted) {

    static UpdateMetadataContent of(UpdateMetadataRequest request) {
        List<BrokerRegistration> brokers = new ArrayList<>();
        for (UpdateMetadataRequest.UpdateMetadataBroker b : request.liveBrokers) {
            UpdateMetadataRequest.UpdateMetadataEndpoint endpoint = b.endpoints.isEmpty() ? null : b.endpoints.get(0);
            String host = endpoint == null ? b.v0Host : endpoint.host;
            int port = endpoint == null ? b.v0Port : endpoint.port;
            String listener = endpoint == null || endpoint.listener == null || endpoint.listener.isEmpty()
                    ? "PLAINTEXT" : endpoint.listener;
            List<KafkaZkLayout.ListenerEndpoint> endpoints = new ArrayList<>();
            for (UpdateMetadataRequest.UpdateMetadataEndpoint e : b.endpoints) {
                endpoints.add(new KafkaZkLayout.ListenerEndpoint(e.listener == null || e.listener.isEmpty()
                        ? KafkaZkLayout.ListenerEndpoint.protocolName(e.securityProtocol) : e.listener,
                        KafkaZkLayout.ListenerEndpoint.protocolName(e.securityProtocol), e.host, e.port));
            }
            brokers.add(new BrokerRegistration(b.id, host, port, listener, b.rack, 0, endpoints));
        }
        List<UpdateMetadataRequest.UpdateMetadataPartitionState> states = new ArrayList<>(request.ungroupedPartitionStates);
        for (UpdateMetadataRequest.UpdateMetadataTopicState topic : request.topicStates) {
            for (UpdateMetadataRequest.UpdateMetadataPartitionState state : topic.partitionStates) {
                state.topicName = topic.topicName;
                states.add(state);
            }
        }
        Set<String> deleted = new LinkedHashSet<>();
        List<MetadataCache.PartitionUpdate> updates = new ArrayList<>();
        for (UpdateMetadataRequest.UpdateMetadataPartitionState s : states) {
            if (s.leader == ReplicaManager.LEADER_DURING_DELETE) {
                deleted.add(s.topicName);
                continue;
            }
            updates.add(new MetadataCache.PartitionUpdate(s.topicName, s.partitionIndex, s.replicas,
                    new PartitionState(s.leader, s.leaderEpoch, s.controllerEpoch, s.isr, s.zkVersion)));
        }
        return new UpdateMetadataContent(brokers, updates, deleted);
    }
}
