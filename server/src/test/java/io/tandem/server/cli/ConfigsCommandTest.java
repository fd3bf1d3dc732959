package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code tandem configs} against a real embedded node, cross-checked with Kafka's own Admin client. */
class ConfigsCommandTest {
    @RegisterExtension
    static TandemExtension tandem = new TandemExtension();

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Cli.Result configs(String... args) {
        List<String> full = new ArrayList<>(List.of("configs", "--bootstrap-server",
                tandem.tandem().bootstrapServers()));
        full.addAll(List.of(args));
        return Cli.run(full.toArray(String[]::new));
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.tandem().bootstrapServers()));
    }

    @Test
    void shouldAlterTopicConfigsThatKafkasAdminSeesAndDescribeThemAsKafkaConfigsDoes() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("configured", 1, (short) 1))).all().get();
            Cli.Result altered = configs("--entity-type", "topics", "--entity-name", "configured", "--alter",
                    "--add-config", "retention.ms=3600000,cleanup.policy=[compact,delete]");
            assertEquals(0, altered.exitCode(), altered.toString());
            assertEquals("Completed updating config for topic configured.\n", altered.out());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "configured");
            var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("3600000", config.get("retention.ms").value());
            assertEquals("compact,delete", config.get("cleanup.policy").value());

            Cli.Result described = configs("--entity-type", "topics", "--entity-name", "configured", "--describe");
            assertEquals(0, described.exitCode(), described.toString());
            assertEquals("""
                    Dynamic configs for topic configured are:
                      cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=\
                    compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}
                      retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}
                    """, described.out());

            Cli.Result deleted = configs("--entity-type", "topics", "--entity-name", "configured", "--alter",
                    "--delete-config", "retention.ms");
            assertEquals(0, deleted.exitCode(), deleted.toString());
            config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, config.get("retention.ms").source());

            Cli.Result all = configs("--entity-type", "topics", "--entity-name", "configured", "--describe", "--all",
                    "--output", "json");
            assertEquals(0, all.exitCode(), all.toString());
            JsonNode entity = JSON.readTree(all.out()).get(0);
            assertEquals("configured", entity.get("entityName").asText());
            List<String> names = new ArrayList<>();
            entity.get("configs").forEach(c -> names.add(c.get("name").asText()));
            assertTrue(names.contains("retention.ms") && names.contains("segment.bytes")
                    && names.contains("cleanup.policy"), names.toString());
            assertEquals(names.stream().sorted().toList(), names, "in name order");
        }
    }

    @Test
    void shouldAlterAndDescribeBrokerAndClusterDefaultConfigs() throws Exception {
        try (Admin admin = admin()) {
            String broker = admin.describeCluster().nodes().get().iterator().next().idString();
            Cli.Result altered = configs("--entity-type", "brokers", "--entity-default", "--alter",
                    "--add-config", "log.segment.bytes=20971520");
            assertEquals(0, altered.exitCode(), altered.toString());
            assertEquals("Completed updating default config for brokers in the cluster.\n", altered.out());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, broker);
            ConfigEntry entry = admin.describeConfigs(List.of(resource)).all().get().get(resource)
                    .get("log.segment.bytes");
            assertEquals("20971520", entry.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, entry.source());

            Cli.Result defaults = configs("--entity-type", "brokers", "--entity-default", "--describe");
            assertEquals(0, defaults.exitCode(), defaults.toString());
            assertTrue(defaults.out().startsWith("Default configs for brokers in the cluster are:\n"
                    + "  log.segment.bytes=20971520 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:"
                    + "log.segment.bytes=20971520}\n"), defaults.out());

            Cli.Result perBroker = configs("--entity-type", "brokers", "--entity-name", broker, "--alter",
                    "--add-config", "log.segment.bytes=10485760");
            assertEquals(0, perBroker.exitCode(), perBroker.toString());
            assertEquals("Completed updating config for broker " + broker + ".\n", perBroker.out());
            Cli.Result described = configs("--entity-type", "brokers", "--entity-name", broker, "--describe");
            assertTrue(described.out().startsWith("Dynamic configs for broker " + broker + " are:\n"
                    + "  log.segment.bytes=10485760 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:"
                    + "log.segment.bytes=10485760, DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=20971520"),
                    described.out());
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                    new ConfigEntry("log.segment.bytes", null), AlterConfigOp.OpType.DELETE)))).all().get();
            assertEquals(0, configs("--entity-type", "brokers", "--entity-default", "--alter", "--delete-config",
                    "log.segment.bytes").exitCode());
        }
    }

    @Test
    void shouldSetUserAndClientQuotasThatKafkasAdminSees() throws Exception {
        try (Admin admin = admin()) {
            Cli.Result user = configs("--entity-type", "users", "--entity-name", "alice", "--alter", "--add-config",
                    "producer_byte_rate=1024,consumer_byte_rate=2048");
            assertEquals(0, user.exitCode(), user.toString());
            assertEquals("Completed updating config for user alice.\n", user.out());
            Cli.Result clientDefault = configs("--entity-type", "clients", "--entity-default", "--alter",
                    "--add-config", "request_percentage=50");
            assertEquals(0, clientDefault.exitCode(), clientDefault.toString());
            assertEquals("Completed updating default config for clients in the cluster.\n", clientDefault.out());

            var quotas = admin.describeClientQuotas(ClientQuotaFilter.contains(List.of(
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))).entities().get();
            assertEquals(Map.of("producer_byte_rate", 1024.0, "consumer_byte_rate", 2048.0),
                    quotas.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice"))));

            Cli.Result described = configs("--entity-type", "users", "--entity-name", "alice", "--describe");
            assertEquals(0, described.exitCode(), described.toString());
            assertEquals("Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0, "
                    + "producer_byte_rate=1024.0\n", described.out());
            Cli.Result defaults = configs("--entity-type", "clients", "--entity-default", "--describe",
                    "--output", "json");
            assertEquals(0, defaults.exitCode(), defaults.toString());
            JsonNode entry = JSON.readTree(defaults.out()).get(0);
            assertTrue(entry.get("entity").has("client-id"), entry.toString());
            assertTrue(entry.get("entity").get("client-id").isNull(), "the default entity: " + entry);
            assertEquals(50.0, entry.get("values").get("request_percentage").asDouble());

            assertEquals(0, configs("--entity-type", "users", "--entity-name", "alice", "--alter",
                    "--delete-config", "producer_byte_rate").exitCode());
            quotas = admin.describeClientQuotas(ClientQuotaFilter.contains(List.of(
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))).entities().get();
            assertEquals(Map.of("consumer_byte_rate", 2048.0),
                    quotas.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice"))));
        }
    }

    @Test
    void shouldAlterAndDescribeGroupConfigsThatKafkasAdminSees() throws Exception {
        Cli.Result altered = configs("--entity-type", "groups", "--entity-name", "sharers", "--alter",
                "--add-config", "share.session.timeout.ms=50000");
        assertEquals(0, altered.exitCode(), altered.toString());
        assertEquals("Completed updating config for group sharers.\n", altered.out());
        try (Admin admin = admin()) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, "sharers");
            ConfigEntry entry = admin.describeConfigs(List.of(resource)).all().get().get(resource)
                    .get("share.session.timeout.ms");
            assertEquals("50000", entry.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG, entry.source());
        }
        Cli.Result described = configs("--entity-type", "groups", "--entity-name", "sharers", "--describe");
        assertEquals(0, described.exitCode(), described.toString());
        assertEquals("Dynamic configs for group sharers are:\n  share.session.timeout.ms=50000 sensitive=false "
                + "synonyms={DYNAMIC_GROUP_CONFIG:share.session.timeout.ms=50000}\n", described.out());
        Cli.Result refused = configs("--entity-type", "groups", "--entity-name", "sharers", "--alter",
                "--add-config", "consumer.assignment.interval.ms=0");
        assertEquals(ExitCodes.ERROR, refused.exitCode(), "a key Tandem does not apply is refused: " + refused);
    }

    @Test
    void shouldFailWithKafkasTextAndExitOneForAnUnknownTopicOrBadConfig() throws Exception {
        Cli.Result unknown = configs("--entity-type", "topics", "--entity-name", "no-such-topic", "--describe");
        assertEquals(ExitCodes.ERROR, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().startsWith("error: ") && unknown.err().contains("UNKNOWN_TOPIC_OR_PARTITION"),
                unknown.err());
        assertEquals("", unknown.out());

        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("strict", 1, (short) 1))).all().get();
        }
        Cli.Result bad = configs("--entity-type", "topics", "--entity-name", "strict", "--alter", "--add-config",
                "retention.ms=soon");
        assertEquals(ExitCodes.ERROR, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("INVALID_CONFIG"), bad.err());

        Cli.Result quota = configs("--entity-type", "users", "--entity-name", "bob", "--alter", "--add-config",
                "no_such_quota=1");
        assertEquals(ExitCodes.ERROR, quota.exitCode(), quota.toString());
        assertTrue(quota.err().contains("INVALID_REQUEST"), quota.err());
    }

    @Test
    void shouldTakeKafkaConfigsEntityFlagsAndAPropertiesFileOfConfigs() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("flagged", 1, (short) 1))).all().get();
            Path file = dir.resolve("topic.properties");
            Files.writeString(file, "# kafka-configs.sh --add-config-file\nretention.ms=7200000\n"
                    + "cleanup.policy=compact,delete\n");
            Cli.Result altered = configs("--topic", "flagged", "--alter", "--add-config-file", file.toString());
            assertEquals(0, altered.exitCode(), altered.toString());
            assertEquals("Completed updating config for topic flagged.\n", altered.out());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "flagged");
            var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("7200000", config.get("retention.ms").value());
            assertEquals("compact,delete", config.get("cleanup.policy").value());
            assertEquals(configs("--entity-type", "topics", "--entity-name", "flagged", "--describe").out(),
                    configs("--topic", "flagged", "--describe").out());

            String broker = admin.describeCluster().nodes().get().iterator().next().idString();
            Cli.Result byFlag = configs("--broker", broker, "--describe", "--all");
            assertEquals(0, byFlag.exitCode(), byFlag.toString());
            assertEquals(configs("--entity-type", "brokers", "--entity-name", broker, "--describe", "--all").out(),
                    byFlag.out());

            Cli.Result user = configs("--user", "carol", "--alter", "--add-config", "producer_byte_rate=4096");
            assertEquals(0, user.exitCode(), user.toString());
            var quotas = admin.describeClientQuotas(ClientQuotaFilter.contains(List.of(
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "carol")))).entities().get();
            assertEquals(Map.of("producer_byte_rate", 4096.0),
                    quotas.get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "carol"))));
            Cli.Result clientDefaults = configs("--client-defaults", "--alter", "--add-config",
                    "consumer_byte_rate=8192");
            assertEquals("Completed updating default config for clients in the cluster.\n", clientDefaults.out(),
                    clientDefaults.toString());
            assertEquals(0, configs("--client-defaults", "--alter", "--delete-config", "consumer_byte_rate")
                    .exitCode());
        }
        // Kafka's refusals (ConfigCommandOptions.checkArgs), as usage errors.
        Cli.Result mixed = configs("--topic", "flagged", "--entity-type", "topics", "--describe");
        assertEquals(ExitCodes.USAGE, mixed.exitCode(), mixed.toString());
        assertTrue(mixed.err().contains("--entity-{type,name,default} should not be used in conjunction with"
                + " specific entity flags"), mixed.err());
        assertEquals(ExitCodes.USAGE, configs("--topic", "flagged", "--user", "carol", "--describe").exitCode());
        Cli.Result none = configs("--describe");
        assertEquals(ExitCodes.USAGE, none.exitCode(), none.toString());
        assertTrue(none.err().contains("At least one entity type must be specified"), none.err());
        Cli.Result both = configs("--topic", "flagged", "--alter", "--add-config", "retention.ms=1",
                "--add-config-file", dir.resolve("topic.properties").toString());
        assertEquals(ExitCodes.USAGE, both.exitCode(), both.toString());
        assertTrue(both.err().contains("Only one of --add-config or --add-config-file must be specified"),
                both.err());
    }

    @Test
    void shouldRefuseBadFlagCombinationsAsUsageErrors() {
        Cli.Result noAction = configs("--entity-type", "topics", "--entity-name", "t");
        assertEquals(ExitCodes.USAGE, noAction.exitCode(), noAction.toString());
        Cli.Result badType = configs("--entity-type", "tables", "--describe");
        assertEquals(ExitCodes.USAGE, badType.exitCode(), badType.toString());
        assertTrue(badType.err().contains("Invalid entity type tables"), badType.err());
        Cli.Result topicDefault = configs("--entity-type", "topics", "--entity-default", "--describe");
        assertEquals(ExitCodes.USAGE, topicDefault.exitCode(), topicDefault.toString());
        Cli.Result alterNothing = configs("--entity-type", "topics", "--entity-name", "t", "--alter");
        assertEquals(ExitCodes.USAGE, alterNothing.exitCode(), alterNothing.toString());
        Cli.Result badBroker = configs("--entity-type", "brokers", "--entity-name", "one", "--describe");
        assertEquals(ExitCodes.USAGE, badBroker.exitCode(), badBroker.toString());
        assertFalse(badBroker.err().isEmpty());
    }
}
