package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/** IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on the resource's overrides. */
final class IncrementalAlterConfigsHandler implements ApiHandler<IncrementalAlterConfigsRequest> {
    private final KafkaBroker broker;

    IncrementalAlterConfigsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, IncrementalAlterConfigsRequest request, Responder responder) {
        IncrementalAlterConfigsResponse response = new IncrementalAlterConfigsResponse();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse result =
                    new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse();
            result.resourceType = resource.resourceType;
            result.resourceName = resource.resourceName;
            result.errorMessage = ApiError.NONE.message(); // Kafka sends null on success, not the codec's ""
            try {
                Map<String, String> overrides = ConfigResources.current(broker, resource.resourceType, resource.resourceName);
                for (IncrementalAlterConfigsRequest.AlterableConfig c : resource.configs) {
                    apply(resource.resourceType, overrides, c);
                }
                ConfigResources.write(broker, resource.resourceType, resource.resourceName, overrides, request.validateOnly);
            } catch (ApiException e) {
                result.errorCode = e.error();
                result.errorMessage = e.getMessage();
            } catch (Exception e) {
                result.errorCode = UNKNOWN_SERVER_ERROR;
                result.errorMessage = e.toString();
            }
            response.responses.add(result);
        }
        responder.send(response);
    }

    private void apply(byte resourceType, Map<String, String> overrides,
                       IncrementalAlterConfigsRequest.AlterableConfig c) {
        switch (c.configOperation) {
            case 0 -> overrides.put(c.name, c.value);
            case 1 -> overrides.remove(c.name);
            case 2, 3 -> {
                TopicConfigs.Key key = TopicConfigs.KEYS.get(c.name);
                if (resourceType != ConfigResources.TOPIC || key == null || !key.type().equals("LIST")) {
                    throw new ApiException(INVALID_CONFIG, "Config value append/subtract is not allowed for config key " + c.name);
                }
                String current = overrides.containsKey(c.name) ? overrides.get(c.name)
                        : broker.topicConfigs().brokerDefault(key).value();
                List<String> values = new ArrayList<>(Arrays.asList(current.split(",")));
                values.replaceAll(String::trim);
                values.removeIf(String::isEmpty);
                for (String v : c.value == null ? new String[0] : c.value.split(",")) {
                    if (c.configOperation == 2 && !values.contains(v.trim())) values.add(v.trim());
                    if (c.configOperation == 3) values.remove(v.trim());
                }
                overrides.put(c.name, String.join(",", values));
            }
            default -> throw new ApiException(INVALID_REQUEST, "Unknown config operation " + c.configOperation);
        }
    }
}
