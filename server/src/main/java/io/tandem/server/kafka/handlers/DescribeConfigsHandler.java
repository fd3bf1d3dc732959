package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResult;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResourceResult;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DescribeConfigs: every topic key with its effective value and where it comes from; for a broker, the broker's
 * whole config set (see {@link BrokerConfigKeys}).
 */
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
                    Map<String, String> settings = broker.topicConfigs().brokerSettings();
                    for (BrokerConfigKeys.Value v : BrokerConfigKeys.describe(settings, dynamic)) {
                        if (resource.configurationKeys != null && !resource.configurationKeys.contains(v.name())) continue;
                        DescribeConfigsResourceResult entry = entry(version, v.name(), v.value(), v.source().code,
                                v.source() == BrokerConfigKeys.Source.DEFAULT_CONFIG, v.type());
                        if (request.includeSynonyms) {
                            // Most specific first, as Kafka lists them.
                            if (dynamic.get(v.name()) != null) {
                                entry.synonyms.add(synonym(v.name(), dynamic.get(v.name()),
                                        BrokerConfigKeys.Source.DYNAMIC_BROKER_CONFIG.code));
                            }
                            if (settings.get(v.name()) != null) {
                                entry.synonyms.add(synonym(v.name(), settings.get(v.name()).trim(),
                                        BrokerConfigKeys.Source.STATIC_BROKER_CONFIG.code));
                            }
                            BrokerConfigKeys.Key key = BrokerConfigKeys.KEYS.get(v.name());
                            if (key != null && key.defaultValue() != null) {
                                entry.synonyms.add(synonym(v.name(), key.defaultValue(),
                                        BrokerConfigKeys.Source.DEFAULT_CONFIG.code));
                            }
                        }
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
        return entry(version, name, value, source.code, source == TopicConfigs.Source.DEFAULT_CONFIG, type);
    }

    private static DescribeConfigsResourceResult entry(short version, String name, String value, byte source,
                                                      boolean isDefault, String type) {
        DescribeConfigsResourceResult entry = new DescribeConfigsResourceResult();
        entry.name = name;
        entry.value = value;
        entry.readOnly = false;
        entry.isDefault = isDefault;
        entry.configSource = source;
        entry.isSensitive = false;
        entry.configType = ConfigResources.configType(type);
        entry.documentation = null; // Kafka sends null, not the codec's "", when it has no documentation to send
        return entry;
    }

    private static DescribeConfigsResponse.DescribeConfigsSynonym synonym(String name, String value,
                                                                              TopicConfigs.Source source) {
        return synonym(name, value, source.code);
    }

    private static DescribeConfigsResponse.DescribeConfigsSynonym synonym(String name, String value, byte source) {
        DescribeConfigsResponse.DescribeConfigsSynonym s = new DescribeConfigsResponse.DescribeConfigsSynonym();
        s.name = name;
        s.value = value;
        s.source = source;
        return s;
    }
}
