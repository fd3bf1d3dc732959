package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** DescribeTransactions: the state of each transactional id this broker coordinates (NOT_COORDINATOR otherwise). */
final class DescribeTransactionsHandler implements ApiHandler<DescribeTransactionsRequest> {
    private final KafkaBroker broker;

    DescribeTransactionsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeTransactionsRequest request, Responder responder) {
        DescribeTransactionsResponse response = new DescribeTransactionsResponse();
        for (String transactionalId : request.transactionalIds) {
            if (!broker.authorization().transactionalId(context, io.tandem.kafka.wire.acl.AclOperation.DESCRIBE,
                    transactionalId)) {
                DescribeTransactionsResponse.TransactionState refused = new DescribeTransactionsResponse.TransactionState();
                refused.transactionalId = transactionalId;
                refused.errorCode = io.tandem.server.kafka.ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
                response.transactionStates.add(refused);
                continue;
            }
            DescribeTransactionsResponse.TransactionState state = broker.transactions().views().describe(transactionalId);
            // As Kafka's KafkaApis: the transaction's partitions of topics the principal may not describe (the
            // offsets topic of its AddOffsetsToTxn included) are left out, so the answer names no hidden topic.
            state.topics.removeIf(topic -> !broker.authorization().topic(context,
                    io.tandem.kafka.wire.acl.AclOperation.DESCRIBE, topic.topic));
            response.transactionStates.add(state);
        }
        responder.send(response);
    }
}
