package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
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
    static final byte ENDPOINT_TYPE_CONTROLLER = 2;
    private final KafkaBroker broker;

    DescribeClusterHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeClusterRequest request, Responder responder) {
        DescribeClusterResponse response = new DescribeClusterResponse();
        if (context.apiVersion() >= 1 && request.endpointType != ENDPOINT_TYPE_BROKER) {
            // As Kafka's brokers answer: a controller request is a mismatch, any other type unsupported; the
            // cluster fields stay at their defaults.
            if (request.endpointType == ENDPOINT_TYPE_CONTROLLER) {
                response.errorCode = Errors.MISMATCHED_ENDPOINT_TYPE.code();
                response.errorMessage = "The request was sent to an endpoint of type BROKER, but we wanted an "
                        + "endpoint of type CONTROLLER";
            } else {
                response.errorCode = UNSUPPORTED_ENDPOINT_TYPE;
                response.errorMessage = "Unsupported endpoint type " + request.endpointType;
            }
            responder.send(response);
            return;
        }
        // One snapshot for the controller and the brokers, as Kafka's answer reads one MetadataSnapshot.
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        response.clusterId = broker.metadata().clusterId();
        response.controllerId = view.controllerId();
        if (request.includeClusterAuthorizedOperations) {
            response.clusterAuthorizedOperations = broker.authorization().authorizedOperations(context,
                    io.tandem.kafka.wire.acl.ResourceType.CLUSTER, io.tandem.kafka.wire.acl.ResourceType.CLUSTER_NAME,
                    io.tandem.server.kafka.security.Authorization.CLUSTER_OPERATIONS);
        }
        for (BrokerRegistration b : view.liveBrokers()) {
            var endpoint = b.endpoint(context.listenerName());
            if (endpoint == null) continue;
            DescribeClusterResponse.DescribeClusterBroker entry = new DescribeClusterResponse.DescribeClusterBroker();
            entry.brokerId = b.brokerId();
            entry.host = endpoint.host();
            entry.port = endpoint.port();
            entry.rack = b.rack();
            response.brokers.add(entry);
        }
        responder.send(response);
    }
}
