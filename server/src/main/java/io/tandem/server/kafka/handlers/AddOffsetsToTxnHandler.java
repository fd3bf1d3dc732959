package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AddOffsetsToTxnRequest;
import io.tandem.kafka.wire.message.AddOffsetsToTxnResponse;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * AddOffsetsToTxn: adds the group's {@code __consumer_offsets} partition to the transaction, so its transactional
 * offset commits get the transaction's marker (Kafka's sendOffsetsToTransaction, first step).
 */
final class AddOffsetsToTxnHandler implements ApiHandler<AddOffsetsToTxnRequest> {
    private final KafkaBroker broker;

    AddOffsetsToTxnHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AddOffsetsToTxnRequest request, Responder responder) {
        short version = context.apiVersion();
        TopicPartition offsetsPartition = new TopicPartition(TopicNames.CONSUMER_OFFSETS,
                OffsetsTopicCodec.partitionFor(request.groupId, broker.config().offsetsTopicPartitions()));
        broker.transactions().coordinator().handleAddPartitions(request.transactionalId, request.producerId,
                request.producerEpoch, Set.of(offsetsPartition), Features.TRANSACTION_VERSION_0, error -> {
                    AddOffsetsToTxnResponse response = new AddOffsetsToTxnResponse();
                    response.errorCode = version < 2 && error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : error;
                    responder.send(response);
                });
    }
}
