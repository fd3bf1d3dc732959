package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResult;
import io.tandem.kafka.wire.message.DescribeConfigsResponse.DescribeConfigsResourceResult;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.BrokerConfigDescriber;
import io.tandem.server.kafka.ConfigSource;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DescribeConfigs: every topic key with its effective value and where it comes from; for a broker, the keys in force
 * on it, or for the cluster-default resource "" the dynamic cluster defaults (see {@link BrokerConfigDescriber}).
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
        // One snapshot for every topic of the request: a topic is checked and described from the same value (read
        // twice, one deleted in between answered the existence check's error with a message Kafka does not send).
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        for (DescribeConfigsRequest.DescribeConfigsResource resource : request.resources) {
            DescribeConfigsResult result = new DescribeConfigsResult();
            result.resourceType = resource.resourceType;
            result.resourceName = resource.resourceName;
            try {
                ConfigResources.authorize(broker, context, resource.resourceType, resource.resourceName,
                        io.tandem.kafka.wire.acl.AclOperation.DESCRIBE_CONFIGS);
                io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo topic =
                        resource.resourceType == ConfigResources.TOPIC ? view.topic(resource.resourceName) : null;
                if (resource.resourceType == ConfigResources.TOPIC && topic == null) {
                    // Kafka's ConfigHelper answers an unknown topic with the code alone: the message stays "".
                    result.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else if (resource.resourceType == ConfigResources.TOPIC) {
                    Map<String, String> overrides = new java.util.LinkedHashMap<>(topic.configs());
                    // One reading of the dynamic broker settings for the values and their synonyms.
                    TopicConfigs.DynamicLayers layers = broker.topicConfigs().dynamic();
                    TopicConfigs configs = broker.topicConfigs().withDynamic(layers);
                    for (TopicConfigs.Value v : configs.effective(overrides).values()) {
                        if (resource.configurationKeys != null && !resource.configurationKeys.contains(v.name())) continue;
                        TopicConfigs.Key key = TopicConfigs.KEYS.get(v.name());
                        List<BrokerConfigDescriber.Synonym> synonyms =
                                topicSynonyms(key, overrides.containsKey(v.name()) ? v.value() : null, layers);
                        // Kafka's source is its first synonym's, so a topic default set by log.retention.hours
                        // alone is reported as DEFAULT_CONFIG (that synonym is dropped; the value is still in force).
                        ConfigSource source = synonyms.isEmpty() ? ConfigSource.DEFAULT_CONFIG
                                : synonyms.get(0).source();
                        DescribeConfigsResourceResult entry = entry(version, v.name(), v.value(), source, false,
                                key.type());
                        if (request.includeSynonyms) addSynonyms(entry, synonyms);
                        result.configs.add(entry);
                    }
                } else if (resource.resourceType == ConfigResources.BROKER) {
                    ConfigResources.checkBroker(broker, resource.resourceName);
                    boolean perBroker = !resource.resourceName.isEmpty();
                    List<BrokerConfigDescriber.Entry> entries = new ArrayList<>(broker.configDescriber().describe(
                            perBroker, broker.topicConfigs().dynamic()));
                    if (resource.configurationKeys != null) {
                        // Only the keys asked for, in the order asked.
                        entries.removeIf(e -> !resource.configurationKeys.contains(e.name()));
                        entries.sort(java.util.Comparator.comparingInt(e -> resource.configurationKeys.indexOf(e.name())));
                    }
                    for (BrokerConfigDescriber.Entry e : entries) {
                        DescribeConfigsResourceResult entry = entry(version, e.name(), e.value(), e.source(),
                                e.readOnly(), e.type());
                        entry.isSensitive = e.sensitive();
                        if (request.includeSynonyms) addSynonyms(entry, e.synonyms());
                        result.configs.add(entry);
                    }
                } else if (resource.resourceType == ConfigResources.GROUP) {
                    for (io.tandem.server.kafka.group.share.GroupConfigs.Entry e
                            : broker.groupConfigs().describe(resource.resourceName)) {
                        if (resource.configurationKeys != null && !resource.configurationKeys.contains(e.name())) continue;
                        DescribeConfigsResourceResult entry = entry(version, e.name(), e.value(), e.source(), false,
                                e.type());
                        if (request.includeSynonyms) entry.synonyms.add(synonym(e.name(), e.value(), e.source()));
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

    /**
     * A topic key's synonyms as Kafka's createTopicConfigEntry lists them: the topic's override (its value, when it
     * has one), then those of the broker key that sets its default ({@link BrokerConfigDescriber#synonyms}); none
     * for a key without a broker key.
     */
    private List<BrokerConfigDescriber.Synonym> topicSynonyms(TopicConfigs.Key key, String override,
                                                             TopicConfigs.DynamicLayers layers) {
        List<BrokerConfigDescriber.Synonym> synonyms = new ArrayList<>();
        if (override != null) {
            synonyms.add(new BrokerConfigDescriber.Synonym(key.name(), override, ConfigSource.TOPIC_CONFIG));
        }
        if (key.brokerKey() != null) synonyms.addAll(broker.configDescriber().synonyms(key.brokerKey(), layers));
        return synonyms;
    }

    private static DescribeConfigsResourceResult entry(short version, String name, String value, ConfigSource source,
                                                      boolean readOnly, String type) {
        DescribeConfigsResourceResult entry = new DescribeConfigsResourceResult();
        entry.name = name;
        entry.value = value;
        entry.readOnly = readOnly;
        entry.isDefault = source == ConfigSource.DEFAULT_CONFIG;
        entry.configSource = source.code;
        entry.isSensitive = false;
        entry.configType = ConfigResources.configType(type);
        entry.documentation = null; // Kafka sends null, not the codec's "", when it has no documentation to send
        return entry;
    }

    private static void addSynonyms(DescribeConfigsResourceResult entry, List<BrokerConfigDescriber.Synonym> synonyms) {
        for (BrokerConfigDescriber.Synonym s : synonyms) entry.synonyms.add(synonym(s.name(), s.value(), s.source()));
    }

    private static DescribeConfigsResponse.DescribeConfigsSynonym synonym(String name, String value,
                                                                          ConfigSource source) {
        DescribeConfigsResponse.DescribeConfigsSynonym s = new DescribeConfigsResponse.DescribeConfigsSynonym();
        s.name = name;
        s.value = value;
        s.source = source.code;
        return s;
    }
}
