package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AlterConfigsRequest;
import io.tandem.kafka.wire.message.AlterConfigsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** AlterConfigs (the legacy, non-incremental one): the given set replaces the resource's overrides. */
final class AlterConfigsHandler implements ApiHandler<AlterConfigsRequest> {
    private final KafkaBroker broker;

    AlterConfigsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AlterConfigsRequest request, Responder responder) {
        AlterConfigsResponse response = new AlterConfigsResponse();
        List<List<Object>> ids = new ArrayList<>();
        for (AlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            ids.add(List.of(resource.resourceType, resource.resourceName));
        }
        Set<List<Object>> duplicates = ConfigResources.duplicates(ids);
        for (AlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            AlterConfigsResponse.AlterConfigsResourceResponse result =
                    new AlterConfigsResponse.AlterConfigsResourceResponse();
            result.resourceType = resource.resourceType;
            result.resourceName = resource.resourceName;
            ApiError error = ConfigResources.alter(broker, context, resource.resourceType, resource.resourceName,
                    duplicates, () -> replace(resource, request.validateOnly));
            result.errorCode = error.code();
            result.errorMessage = error.message();
            response.responses.add(result);
        }
        responder.send(response);
    }

    /** The given set becomes the resource's overrides; a key named without a value is refused, as Kafka does. */
    private void replace(AlterConfigsRequest.AlterConfigsResource resource, boolean validateOnly) throws Exception {
        List<String> names = new ArrayList<>();
        List<String> withoutValue = new ArrayList<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        for (AlterConfigsRequest.AlterableConfig c : resource.configs) {
            names.add(c.name);
            if (c.value == null) withoutValue.add(c.name);
            else overrides.put(c.name, c.value);
        }
        ConfigResources.checkEntries(names, withoutValue);
        ConfigResources.write(broker, resource.resourceType, resource.resourceName, overrides, validateOnly);
    }
}
