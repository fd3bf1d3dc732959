package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.KafkaBroker;

import static io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.STALE_BROKER_EPOCH;

/**
 * What a broker checks before it obeys a controller's LeaderAndIsr, UpdateMetadata or StopReplica, as Kafka 3.9's:
 * a request meant for an earlier registration of this broker (its broker epoch older than the current one; -1 means
 * the controller did not say) is STALE_BROKER_EPOCH, since it was decided before the controller knew this broker
 * came back; a KRaft controller migrating a ZooKeeper cluster is refused, as Tandem brokers do not migrate.
 */
final class ControllerRequestCheck {
    private ControllerRequestCheck() {
    }

    /** NONE when the request may be applied, else the error to answer with. */
    static short refusal(KafkaBroker broker, boolean fromKRaftController, long brokerEpoch) {
        if (fromKRaftController) return INVALID_REQUEST;
        if (brokerEpoch != -1 && brokerEpoch < broker.metadata().brokerEpoch()) return STALE_BROKER_EPOCH;
        return NONE;
    }
}
