package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.TransactionCoordinator;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * InitProducerId: without a transactional id a fresh producer id with epoch 0 every time (Kafka does the same); with
 * one, the transaction coordinator bumps the id's epoch, fencing its previous producer (KIP-98), or resumes a
 * producer that names its own id and epoch (v3+, KIP-360). A producer id without an epoch, or the other way round,
 * is INVALID_REQUEST; clients before v4 get PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, as Kafka sends it.
 */
final class InitProducerIdHandler implements ApiHandler<InitProducerIdRequest> {
    private static final long NO_PRODUCER_ID = -1;
    private static final short NO_PRODUCER_EPOCH = -1;
    private final KafkaBroker broker;

    InitProducerIdHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, InitProducerIdRequest request, Responder responder) throws Exception {
        short version = context.apiVersion();
        if ((request.producerId == NO_PRODUCER_ID) != (request.producerEpoch == NO_PRODUCER_EPOCH)) {
            responder.send(response(version, TransactionCoordinator.InitResult.error(INVALID_REQUEST)));
            return;
        }
        // Kafka: WRITE on the transactional id; an idempotent producer needs IDEMPOTENT_WRITE on the cluster or
        // WRITE on some topic (KIP-679).
        if (request.transactionalId != null
                && !broker.authorization().transactionalId(context, AclOperation.WRITE, request.transactionalId)) {
            responder.send(response(version, TransactionCoordinator.InitResult.error(TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
            return;
        }
        if (request.transactionalId == null
                && !broker.authorization().allowedOnCluster(context, AclOperation.IDEMPOTENT_WRITE)
                && !broker.authorization().anyResource(context, AclOperation.WRITE, ResourceType.TOPIC)) {
            responder.send(response(version, TransactionCoordinator.InitResult.error(CLUSTER_AUTHORIZATION_FAILED)));
            return;
        }
        if (request.transactionalId == null) {
            responder.send(response(version, new TransactionCoordinator.InitResult(NONE,
                    broker.producerIds().nextProducerId(), (short) 0)));
            return;
        }
        broker.transactions().coordinator().handleInitProducerId(request.transactionalId,
                request.transactionTimeoutMs, request.producerId, request.producerEpoch,
                result -> responder.send(response(version, result)));
    }

    private static InitProducerIdResponse response(short version, TransactionCoordinator.InitResult result) {
        InitProducerIdResponse response = new InitProducerIdResponse();
        // Clients before v4 do not know PRODUCER_FENCED; Kafka tells them INVALID_PRODUCER_EPOCH instead.
        response.errorCode = version < 4 && result.error() == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : result.error();
        response.producerId = result.producerId();
        response.producerEpoch = result.producerEpoch();
        return response;
    }
}
