package io.tandem.server.cli;

import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterClientQuotasRequest;
import io.tandem.kafka.wire.message.AlterClientQuotasResponse;
import io.tandem.kafka.wire.message.DescribeClientQuotasRequest;
import io.tandem.kafka.wire.message.DescribeClientQuotasResponse;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The requests behind {@code tandem configs}, sent as Kafka's Admin client sends them for kafka-configs.sh:
 * DescribeConfigs with synonyms and IncrementalAlterConfigs for topics, brokers and groups (a broker's own configs
 * to that broker, everything else to any broker), DescribeClientQuotas and AlterClientQuotas for users and client
 * ids. A refusal becomes a {@link KafkaClientException} carrying the broker's text, or Kafka's own text for the
 * error code when the broker sent none, which is what Kafka's tools print.
 */
final class ConfigsWire {
    /** IncrementalAlterConfigs operations (Kafka's AlterConfigOp.OpType). */
    private static final byte OP_SET = 0;
    private static final byte OP_DELETE = 1;
    /** DescribeClientQuotas match types (Kafka's ClientQuotaFilterComponent). */
    private static final byte MATCH_EXACT = 0;
    private static final byte MATCH_DEFAULT = 1;
    private static final byte MATCH_SPECIFIED = 2;

    /** One config as kafka-configs.sh shows it, with its synonyms (most significant first). */
    record Entry(String name, String value, String source, boolean sensitive, boolean readOnly,
                 List<Synonym> synonyms) {
    }

    record Synonym(String name, String value, String source) {
    }

    /** One quota entity: its parts (user, client-id, ip; a null name is the default entity) and its values. */
    record Quotas(Map<String, String> entity, Map<String, Double> values) {
    }

    private final KafkaClient client;

    ConfigsWire(KafkaClient client) {
        this.client = client;
    }

    /** Every config of a resource, in name order; {@code brokerId} is where to ask (-1: any broker). */
    List<Entry> describe(byte resourceType, String name, int brokerId) {
        // Only the exchange is retried: as in Kafka's Admin, a resource's own error (an unknown topic included) is
        // the answer, not a reason to ask again until the timeout.
        short[] version = new short[1];
        DescribeConfigsResponse response = client.retrying(() -> {
            KafkaConnection connection = connection(brokerId);
            version[0] = connection.version(ApiKey.DESCRIBE_CONFIGS);
            DescribeConfigsRequest request = new DescribeConfigsRequest().setResources(new ArrayList<>(List.of(
                    new DescribeConfigsRequest.DescribeConfigsResource().setResourceType(resourceType)
                            .setResourceName(name).setConfigurationKeys(null)))).setIncludeSynonyms(version[0] >= 1);
            return connection.send(request, version[0], client.requestTimeout());
        });
        List<Entry> entries = new ArrayList<>();
        for (DescribeConfigsResponse.DescribeConfigsResult result : response.results) {
            check(result.errorCode, result.errorMessage);
            for (DescribeConfigsResponse.DescribeConfigsResourceResult config : result.configs) {
                List<Synonym> synonyms = new ArrayList<>();
                for (DescribeConfigsResponse.DescribeConfigsSynonym s : config.synonyms) {
                    synonyms.add(new Synonym(s.name, s.value, sourceName(s.source)));
                }
                String source = version[0] == 0 ? (config.isDefault ? "DEFAULT_CONFIG" : "UNKNOWN")
                        : sourceName(config.configSource);
                entries.add(new Entry(config.name, config.value, source, config.isSensitive, config.readOnly,
                        synonyms));
            }
        }
        entries.sort((a, b) -> a.name().compareTo(b.name()));
        return entries;
    }

    /** Sets and removes configs of a resource, leaving the others as they are. */
    void alter(byte resourceType, String name, int brokerId, Map<String, String> set, Collection<String> delete) {
        IncrementalAlterConfigsResponse response = client.retrying(() -> {
            KafkaConnection connection = connection(brokerId);
            IncrementalAlterConfigsRequest.AlterConfigsResource resource =
                    new IncrementalAlterConfigsRequest.AlterConfigsResource().setResourceType(resourceType)
                            .setResourceName(name);
            set.forEach((key, value) -> resource.configs.add(new IncrementalAlterConfigsRequest.AlterableConfig()
                    .setName(key).setConfigOperation(OP_SET).setValue(value)));
            for (String key : delete) {
                resource.configs.add(new IncrementalAlterConfigsRequest.AlterableConfig().setName(key)
                        .setConfigOperation(OP_DELETE).setValue(null));
            }
            IncrementalAlterConfigsRequest request = new IncrementalAlterConfigsRequest()
                    .setResources(new ArrayList<>(List.of(resource)));
            return connection.send(request, client.requestTimeout());
        });
        for (IncrementalAlterConfigsResponse.AlterConfigsResourceResponse result : response.responses) {
            check(result.errorCode, result.errorMessage); // the resource's answer: not retried (as describe)
        }
    }

    /**
     * The quotas of the entities of {@code entityType}: one named entity, the default one ({@code name} ""), or all
     * that have a name ({@code name} null); strict, as kafka-configs.sh asks, so user+client-id pairs stay out.
     */
    List<Quotas> describeQuotas(String entityType, String name) {
        return client.retrying(() -> {
            DescribeClientQuotasRequest.ComponentData component = new DescribeClientQuotasRequest.ComponentData()
                    .setEntityType(entityType);
            if (name == null) {
                component.setMatchType(MATCH_SPECIFIED).setMatch(null);
            } else if (name.isEmpty()) {
                component.setMatchType(MATCH_DEFAULT).setMatch(null);
            } else {
                component.setMatchType(MATCH_EXACT).setMatch(name);
            }
            DescribeClientQuotasRequest request = new DescribeClientQuotasRequest()
                    .setComponents(new ArrayList<>(List.of(component))).setStrict(true);
            DescribeClientQuotasResponse response = client.anyConnection().send(request, client.requestTimeout());
            check(response.errorCode, response.errorMessage);
            List<Quotas> quotas = new ArrayList<>();
            for (DescribeClientQuotasResponse.EntryData entry : response.entries) {
                Map<String, String> entity = new LinkedHashMap<>();
                for (DescribeClientQuotasResponse.EntityData part : entry.entity) {
                    entity.put(part.entityType, part.entityName);
                }
                Map<String, Double> values = new java.util.TreeMap<>();
                for (DescribeClientQuotasResponse.ValueData value : entry.values) {
                    values.put(value.key, value.value);
                }
                quotas.add(new Quotas(entity, values));
            }
            quotas.sort((a, b) -> String.valueOf(a.entity()).compareTo(String.valueOf(b.entity())));
            return quotas;
        });
    }

    /** Sets and removes quotas of one entity ({@code name} null: the default entity). */
    void alterQuotas(String entityType, String name, Map<String, Double> set, Collection<String> delete) {
        client.retrying(() -> {
            AlterClientQuotasRequest.EntryData entry = new AlterClientQuotasRequest.EntryData();
            entry.entity.add(new AlterClientQuotasRequest.EntityData().setEntityType(entityType).setEntityName(name));
            set.forEach((key, value) -> entry.ops.add(new AlterClientQuotasRequest.OpData().setKey(key)
                    .setValue(value).setRemove(false)));
            for (String key : delete) {
                entry.ops.add(new AlterClientQuotasRequest.OpData().setKey(key).setValue(0.0).setRemove(true));
            }
            AlterClientQuotasRequest request = new AlterClientQuotasRequest()
                    .setEntries(new ArrayList<>(List.of(entry))).setValidateOnly(false);
            AlterClientQuotasResponse response = client.anyConnection().send(request, client.requestTimeout());
            for (AlterClientQuotasResponse.EntryData result : response.entries) {
                check(result.errorCode, result.errorMessage);
            }
            return null;
        });
    }

    private KafkaConnection connection(int brokerId) {
        return brokerId < 0 ? client.anyConnection() : client.connection(brokerId);
    }

    /** Kafka's ApiException text: the broker's message, else the error code's own. */
    static void check(short code, String brokerMessage) {
        if (code == 0) return;
        Errors error = Errors.forCode(code);
        String text = brokerMessage != null && !brokerMessage.isBlank() ? brokerMessage : error.message();
        throw new KafkaClientException(error, text + " (" + error.name() + ")");
    }

    /**
     * Kafka's Admin names for DescribeConfigs' source codes (ConfigEntry.ConfigSource), which kafka-configs.sh prints
     * in its synonyms; the wire calls 1 TOPIC_CONFIG, the Admin DYNAMIC_TOPIC_CONFIG.
     */
    static String sourceName(byte code) {
        return switch (code) {
            case 1 -> "DYNAMIC_TOPIC_CONFIG";
            case 2 -> "DYNAMIC_BROKER_CONFIG";
            case 3 -> "DYNAMIC_DEFAULT_BROKER_CONFIG";
            case 4 -> "STATIC_BROKER_CONFIG";
            case 5 -> "DEFAULT_CONFIG";
            case 6 -> "DYNAMIC_BROKER_LOGGER_CONFIG";
            case 7 -> "DYNAMIC_CLIENT_METRICS_CONFIG";
            case 8 -> "DYNAMIC_GROUP_CONFIG";
            default -> "UNKNOWN";
        };
    }
}
