package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.regex.Pattern;

/**
 * ApiVersions: the registry's own list, so what we advertise is exactly what we serve. Requests are checked as
 * Kafka checks them: from v3 the client software name and version must look like names (else INVALID_REQUEST);
 * from v5 (KIP-1242) a client names the cluster and node it means to reach, both or neither (else INVALID_REQUEST),
 * and a client that reached another cluster or node is told REBOOTSTRAP_REQUIRED.
 */
final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequest> {
    /** Kafka's ApiVersionsRequest.SOFTWARE_NAME_VERSION_PATTERN. */
    private static final Pattern SOFTWARE_NAME_VERSION = Pattern.compile("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    private static final int NODE_ID_NONE = -1;
    private final ApiRegistry registry;
    private final KafkaBroker broker;

    ApiVersionsHandler(ApiRegistry registry, KafkaBroker broker) {
        this.registry = registry;
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ApiVersionsRequest request, Responder responder) {
        // Versions too new for us never get here: the connection answers them with UNSUPPORTED_VERSION at v0.
        short version = context.apiVersion();
        if (!valid(version, request)) {
            responder.send(new ApiVersionsResponse().setErrorCode(Errors.INVALID_REQUEST.code()));
        } else if (version >= 5 && request.clusterId != null
                && (!request.clusterId.equals(broker.metadata().clusterId()) || request.nodeId != broker.config().brokerId())) {
            responder.send(new ApiVersionsResponse().setErrorCode(Errors.REBOOTSTRAP_REQUIRED.code()));
        } else {
            responder.send(new ApiVersionsResponse().setApiKeys(registry.apiVersions()));
        }
    }

    private static boolean valid(short version, ApiVersionsRequest request) {
        if (version >= 5 && (request.clusterId == null) != (request.nodeId == NODE_ID_NONE)) return false;
        return version < 3 || SOFTWARE_NAME_VERSION.matcher(request.clientSoftwareName).matches()
                && SOFTWARE_NAME_VERSION.matcher(request.clientSoftwareVersion).matches();
    }
}
