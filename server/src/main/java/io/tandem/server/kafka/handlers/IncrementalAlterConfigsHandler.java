package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/** IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on the resource's overrides. */
final class IncrementalAlterConfigsHandler implements ApiHandler<IncrementalAlterConfigsRequest> {
    private static final byte SET = 0;
    private static final byte DELETE = 1;
    private static final byte APPEND = 2;
    private static final byte SUBTRACT = 3;

    private final KafkaBroker broker;

    IncrementalAlterConfigsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, IncrementalAlterConfigsRequest request, Responder responder) {
        IncrementalAlterConfigsResponse response = new IncrementalAlterConfigsResponse();
        List<List<Object>> ids = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            ids.add(List.of(resource.resourceType, resource.resourceName));
        }
        Set<List<Object>> duplicates = ConfigResources.duplicates(ids);
        for (IncrementalAlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse result =
                    new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse();
            result.resourceType = resource.resourceType;
            result.resourceName = resource.resourceName;
            ApiError error = ConfigResources.alter(broker, context, resource.resourceType, resource.resourceName,
                    duplicates, () -> alter(resource, request.validateOnly));
            result.errorCode = error.code();
            result.errorMessage = error.message();
            response.responses.add(result);
        }
        responder.send(response);
    }

    /** Every operation of the resource on its current overrides, then the result written (or only validated). */
    private void alter(IncrementalAlterConfigsRequest.AlterConfigsResource resource, boolean validateOnly)
            throws Exception {
        List<String> names = new ArrayList<>();
        List<String> withoutValue = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterableConfig c : resource.configs) {
            names.add(c.name);
            if (c.value == null && c.configOperation != DELETE) withoutValue.add(c.name);
        }
        ConfigResources.checkEntries(names, withoutValue);
        Map<String, String> overrides = ConfigResources.current(broker, resource.resourceType, resource.resourceName);
        for (IncrementalAlterConfigsRequest.AlterableConfig c : resource.configs) {
            apply(resource.resourceType, overrides, c);
        }
        ConfigResources.write(broker, resource.resourceType, resource.resourceName, overrides, validateOnly);
    }

    private void apply(byte resourceType, Map<String, String> overrides,
                       IncrementalAlterConfigsRequest.AlterableConfig c) {
        if (resourceType == ConfigResources.BROKER) {
            applyToBroker(overrides, c);
            return;
        }
        switch (c.configOperation) {
            case SET -> overrides.put(c.name, c.value);
            case DELETE -> overrides.remove(c.name);
            case APPEND, SUBTRACT -> {
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
                    if (c.configOperation == APPEND && !values.contains(v.trim())) values.add(v.trim());
                    if (c.configOperation == SUBTRACT) values.remove(v.trim());
                }
                overrides.put(c.name, String.join(",", values));
            }
            default -> throw new ApiException(INVALID_REQUEST, "Unknown config operation " + c.configOperation);
        }
    }

    /**
     * One operation on a broker resource's dynamic settings, as Kafka's ConfigAdminManager.prepareIncrementalConfigs
     * does it: APPEND and SUBTRACT only on LIST keys, starting from Kafka's default when the key is not set.
     */
    private static void applyToBroker(Map<String, String> settings, IncrementalAlterConfigsRequest.AlterableConfig c) {
        switch (c.configOperation) {
            case SET -> settings.put(c.name, c.value);
            case DELETE -> settings.remove(c.name);
            case APPEND, SUBTRACT -> {
                BrokerConfigKeys.Key key = BrokerConfigKeys.KAFKA.get(c.name);
                if (key == null) throw new ApiException(INVALID_CONFIG, "Unknown config name: " + c.name);
                String operation = c.configOperation == APPEND ? "append" : "subtract";
                if (!key.type().equals("LIST")) {
                    throw new ApiException(INVALID_CONFIG, "Config value " + operation
                            + " is not allowed for config key: " + c.name);
                }
                String old = settings.containsKey(c.name) ? settings.get(c.name) : key.kafkaDefault();
                List<String> values = new ArrayList<>();
                if (old != null && !old.isEmpty()) values.addAll(Arrays.asList(old.split(",")));
                List<String> given = Arrays.asList(c.value.split(","));
                if (c.configOperation == APPEND) {
                    for (String v : given) if (!values.contains(v)) values.add(v);
                } else {
                    values.removeAll(given);
                }
                settings.put(c.name, String.join(",", values));
            }
            default -> throw new ApiException(INVALID_REQUEST, "Unknown operations type " + c.configOperation);
        }
    }
}
