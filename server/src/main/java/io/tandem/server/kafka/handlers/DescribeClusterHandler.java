package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeClusterRequest;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.*;

/** DescribeCluster: the live brokers, the controller and the cluster id. */
final class DescribeClusterHandler implements ApiHandler<DescribeClusterRequest> {
    static final byte ENDPOINT_TYPE_BROKER = 1;
    private final KafkaBroker broker;

    DescribeClusterHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeClusterRequest request, Responder responder) {
        DescribeClusterResponse response = new DescribeClusterResponse();
        if (context.apiVersion() >= 1 && request.endpointType != ENDPOINT_TYPE_BROKER) {
            response.errorCode = UNSUPPORTED_ENDPOINT_TYPE;
            response.errorMessage = "Tandem brokers only answer with broker endpoints";
            response.clusterId = broker.metadata().clusterId();
            responder.send(response);
            return;
        }
        response.clusterId = broker.metadata().clusterId();
        response.controllerId = broker.metadata().controllerId();
        for (BrokerRegistration b : broker.metadata().liveBrokers()) {
            DescribeClusterResponse.DescribeClusterBroker entry = new DescribeClusterResponse.DescribeClusterBroker();
            entry.brokerId = b.brokerId();
            entry.host = b.host();
            entry.port = b.port();
            entry.rack = b.rack();
            response.brokers.add(entry);
        }
        responder.send(response);
    }
}
