package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** ApiVersions: the registry's own list, so what we advertise is exactly what we serve. */
final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequest> {
    private final ApiRegistry registry;

    ApiVersionsHandler(ApiRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void handle(RequestContext context, ApiVersionsRequest request, Responder responder) {
        // Versions too new for us never get here: the connection answers them with UNSUPPORTED_VERSION at v0.
        responder.send(new ApiVersionsResponse().setApiKeys(registry.apiVersions()));
    }
}
