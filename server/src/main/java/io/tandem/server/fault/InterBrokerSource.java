package io.tandem.server.fault;

import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;

/**
 * Which broker sent an inter-broker request, from the id the request itself carries (Kafka's brokers name themselves
 * in every request they send each other): a follower's Fetch and OffsetForLeaderEpoch (replica id), the controller's
 * LeaderAndIsr, UpdateMetadata and StopReplica (controller id), a leader's AlterPartition and a stopping broker's
 * ControlledShutdown (broker id). Client requests have none. This is how a network partition between brokers is
 * simulated without knowing which socket belongs to whom.
 */
final class InterBrokerSource {
    /** No broker: a client's request. */
    static final int NONE = -1;

    private InterBrokerSource() {
    }

    static int of(ApiMessage request) {
        int id = NONE;
        if (request instanceof FetchRequest fetch) {
            id = fetch.replicaState != null && fetch.replicaState.replicaId >= 0 ? fetch.replicaState.replicaId
                    : fetch.replicaId;
        } else if (request instanceof OffsetForLeaderEpochRequest epochs) {
            id = epochs.replicaId;
        } else if (request instanceof LeaderAndIsrRequest leaders) {
            id = leaders.controllerId;
        } else if (request instanceof UpdateMetadataRequest update) {
            id = update.controllerId;
        } else if (request instanceof StopReplicaRequest stop) {
            id = stop.controllerId;
        } else if (request instanceof AlterPartitionRequest alter) {
            id = alter.brokerId;
        } else if (request instanceof ControlledShutdownRequest shutdown) {
            id = shutdown.brokerId;
        }
        return id >= 0 ? id : NONE;
    }
}
