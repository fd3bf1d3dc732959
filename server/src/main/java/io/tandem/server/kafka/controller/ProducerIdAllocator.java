package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.message.AllocateProducerIdsRequest;
import io.tandem.kafka.wire.message.AllocateProducerIdsResponse;
import io.tandem.server.kafka.metadata.ProducerIdBlocks;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.producer.ProducerIdManager;

import static io.tandem.server.kafka.ErrorCodes.BROKER_ID_NOT_REGISTERED;
import static io.tandem.server.kafka.ErrorCodes.STALE_BROKER_EPOCH;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;

/**
 * AllocateProducerIds (67) as Kafka 3.9's ZooKeeper-mode controller answers it: an Apache broker of inter-broker
 * protocol 3.0 or later reserves its producer id blocks through the controller instead of writing ZooKeeper itself,
 * so without this its InitProducerId (every idempotent producer's first request) never completes. The broker must
 * be registered at the epoch it names; the block is reserved in {@code /latest_producer_id_block} for it.
 */
final class ProducerIdAllocator {
    private static final System.Logger LOG = System.getLogger(ProducerIdAllocator.class.getName());

    private ProducerIdAllocator() {
    }

    /** {@code registeredEpoch}: the broker's epoch as the controller knows it, -1 when it is not live. */
    static AllocateProducerIdsResponse allocate(ZnodeStore store, long registeredEpoch,
                                                AllocateProducerIdsRequest request) throws Exception {
        AllocateProducerIdsResponse response = new AllocateProducerIdsResponse();
        if (registeredEpoch < 0) {
            response.errorCode = BROKER_ID_NOT_REGISTERED;
            return response;
        }
        if (request.brokerEpoch != registeredEpoch) {
            response.errorCode = STALE_BROKER_EPOCH;
            return response;
        }
        try {
            response.producerIdStart = ProducerIdBlocks.reserve(store, request.brokerId, ProducerIdManager.BLOCK_SIZE);
            response.producerIdLen = (int) ProducerIdManager.BLOCK_SIZE;
        } catch (IllegalStateException exhausted) {
            LOG.log(System.Logger.Level.ERROR, "Cannot allocate producer ids to broker " + request.brokerId + ": "
                    + exhausted.getMessage());
            response.errorCode = UNKNOWN_SERVER_ERROR;
        }
        return response;
    }
}
