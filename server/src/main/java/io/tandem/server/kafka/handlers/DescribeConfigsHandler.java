package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResult;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResourceResult;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/** DescribeConfigs: every topic key with its effective value and where it comes from; broker keys likewise. */
final class DescribeConfigsHandler implements ApiHandler<DescribeConfigsRequest> {
    private final KafkaBroker broker;

    DescribeConfigsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeConfigsRequest request, Responder responder) {
        short version = context.apiVersion();
        DescribeConfigsResponse response = new DescribeConfigsResponse();
        for (DescribeConfigsRequest.DescribeConfigsResource resource : request.resources) {
            DescribeConfigsResult result = new DescribeConfigsResult();
            result.resourceType = resource.resourceType;
            result.resourceName = resource.resourceName;
            try {
                if (resource.resourceType == ConfigResources.TOPIC) {
                    Map<String, String> overrides = ConfigResources.current(broker, resource.resourceType, resource.resourceName);
                    for (TopicConfigs.Value v : broker.topicConfigs().effective(overrides).values()) {
                        if (resource.configurationKeys != null && !resource.configurationKeys.contains(v.name())) continue;
                        TopicConfigs.Key key = TopicConfigs.KEYS.get(v.name());
                        DescribeConfigsResourceResult entry = entry(version, v.name(), v.value(), v.source(), key.type());
                        if (request.includeSynonyms) {
                            if (v.source() == TopicConfigs.Source.TOPIC_CONFIG) {
                                entry.synonyms.add(synonym(v.name(), v.value(), TopicConfigs.Source.TOPIC_CONFIG));
                            }
                            TopicConfigs.Value brokerDefault = broker.topicConfigs().brokerDefault(key);
                            if (brokerDefault.source() == TopicConfigs.Source.STATIC_BROKER_CONFIG) {
                                entry.synonyms.add(synonym(key.brokerKey(), brokerDefault.value(),
                                        TopicConfigs.Source.STATIC_BROKER_CONFIG));
                            }
                            entry.synonyms.add(synonym(key.brokerKey() == null ? key.name() : key.brokerKey(),
                                    key.defaultValue(), TopicConfigs.Source.DEFAULT_CONFIG));
                        }
                        result.configs.add(entry);
                    }
                } else if (resource.resourceType == ConfigResources.BROKER) {
                    Map<String, String> dynamic = ConfigResources.current(broker, resource.resourceType, resource.resourceName);
                    for (TopicConfigs.Key key : TopicConfigs.KEYS.values()) {
                        if (key.brokerKey() == null) continue;
                        if (resource.configurationKeys != null && !resource.configurationKeys.contains(key.brokerKey())) continue;
                        String dynamicValue = dynamic.get(key.brokerKey());
                        TopicConfigs.Value v = broker.topicConfigs().brokerDefault(key);
                        DescribeConfigsResourceResult entry = dynamicValue != null
                                ? entry(version, key.brokerKey(), dynamicValue, null, key.type())
                                : entry(version, key.brokerKey(), v.value(), v.source(), key.type());
                        if (dynamicValue != null) entry.configSource = 2; // DYNAMIC_BROKER_CONFIG
                        result.configs.add(entry);
                    }
                } else {
                    throw new ApiException(INVALID_REQUEST, "Unsupported resource type " + resource.resourceType);
                }
            } catch (ApiException e) {
                result.errorCode = e.error();
                result.errorMessage = e.getMessage();
                result.configs.clear();
            }
            response.results.add(result);
        }
        responder.send(response);
    }

    private static DescribeConfigsResourceResult entry(short version, String name, String value,
                                                      TopicConfigs.Source source, String type) {
        DescribeConfigsResourceResult entry = new DescribeConfigsResourceResult();
        entry.name = name;
        entry.value = value;
        entry.readOnly = false;
        entry.isDefault = source == TopicConfigs.Source.DEFAULT_CONFIG;
        entry.configSource = source == null ? -1 : source.code;
        entry.isSensitive = false;
        entry.configType = ConfigResources.configType(type);
        return entry;
    }

    private static DescribeConfigsResponse.DescribeConfigsSynonym synonym(String name, String value,
                                                                              TopicConfigs.Source source) {
        DescribeConfigsResponse.DescribeConfigsSynonym s = new DescribeConfigsResponse.DescribeConfigsSynonym();
        s.name = name;
        s.value = value;
        s.source = source.code;
        return s;
    }
}
