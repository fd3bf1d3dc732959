package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic configs are followed as Kafka 3.9's ZkConfigManager follows them: a change made through one broker (the
 * cluster default of the brokers' settings, a topic's override) comes into force on the other by the notification
 * under {@code /config/changes} and a watch on it (the second broker reads the notifications after the change, and
 * a broker with nothing to do sends ZooKeeper nothing, so no poll explains it). Kafka bounds the delay by nothing
 * but the watch: the test asks for no wall-clock figure, which a loaded machine would break. The second broker reaches ZooKeeper through a relay that records its requests (pings left out). Before,
 * it read its dynamic settings every second whatever happened, and never learnt of a topic override made elsewhere.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConfigChangeWatchTest {
    private static final long IDLE_MS = 3_000;

    @Test
    void aChangeThroughOneBrokerIsInForceOnTheOtherByTheWatchAndAnIdleBrokerReadsNothing(@TempDir Path dir)
            throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                     .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeperRequestRecorder recorder = new ZooKeeperRequestRecorder(zookeeper.zookeeperConnect(), Set.of());
             Tandem first = broker(dir, 1, zookeeper.zookeeperConnect());
             Tandem second = broker(dir, 2, recorder.connectString());
             Admin viaFirst = admin(first)) {
            viaFirst.createTopics(List.of(new NewTopic("watched", 1, (short) 2))).all().get(30, TimeUnit.SECONDS);
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "watched");
            awaitValue(second, topic, "retention.ms", "604800000", 30_000); // the second broker knows the topic

            // The cluster default of every broker's settings, set through the first broker.
            ConfigResource secondBroker = new ConfigResource(ConfigResource.Type.BROKER, "2");
            int mark = recorder.mark();
            alter(first, new ConfigResource(ConfigResource.Type.BROKER, ""), "log.retention.ms", "3600000");
            awaitValue(second, secondBroker, "log.retention.ms", "3600000", 30_000);
            assertReadTheNotifications(recorder.since(mark), "the cluster default");

            // A topic's override, set through the first broker.
            mark = recorder.mark();
            alter(first, topic, "retention.ms", "7200000");
            awaitValue(second, topic, "retention.ms", "7200000", 30_000);
            assertReadTheNotifications(recorder.since(mark), "the topic override");

            recorder.awaitQuiet(1_000, 10_000);
            mark = recorder.mark();
            Thread.sleep(IDLE_MS);
            assertEquals(List.of(), recorder.since(mark), "ZooKeeper requests of an idle broker over " + IDLE_MS
                    + " ms");
        }
    }

    /** The second broker read {@code /config/changes} after the change: its watch fired (it does not poll). */
    private static void assertReadTheNotifications(List<String> requests, String change) {
        assertTrue(requests.stream().anyMatch(r -> r.startsWith("getChildren")
                        && r.endsWith(" " + KafkaZkLayout.CONFIG_CHANGES)),
                change + " came into force on broker 2 without its reading " + KafkaZkLayout.CONFIG_CHANGES + ": "
                        + requests);
    }

    private static Tandem broker(Path dir, int id, String zookeeperConnect) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("broker" + id)).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", Integer.toString(id)).set("zookeeper.connect", zookeeperConnect)
                // As TandemCluster's brokers: the last one closed still leads "watched" and retries its shutdown.
                .set("controlled.shutdown.retry.backoff.ms", "100"));
    }

    private static Admin admin(Tandem broker) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    /** Sets {@code key} through {@code broker} itself (the Admin client would pick any broker for it). */
    private static void alter(Tandem broker, ConfigResource resource, String key, String value) throws Exception {
        short version = 1;
        try (RawKafkaConnection connection = new RawKafkaConnection(broker.kafkaPort())) {
            IncrementalAlterConfigsRequest request = new IncrementalAlterConfigsRequest().setResources(List.of(
                    new IncrementalAlterConfigsRequest.AlterConfigsResource().setResourceType(resource.type().id())
                            .setResourceName(resource.name()).setConfigs(List.of(
                                    new IncrementalAlterConfigsRequest.AlterableConfig().setName(key)
                                            .setConfigOperation(AlterConfigOp.OpType.SET.id()).setValue(value)))));
            int id = connection.send(ApiKey.INCREMENTAL_ALTER_CONFIGS, version, request);
            IncrementalAlterConfigsResponse response = connection.receive(id,
                    ApiKey.INCREMENTAL_ALTER_CONFIGS.responseHeaderVersion(version), version,
                    IncrementalAlterConfigsResponse::read);
            assertEquals(0, response.responses.get(0).errorCode, "altering " + resource + " " + key);
        }
    }

    /**
     * Waits until {@code broker}'s own DescribeConfigs shows {@code key} at {@code value} (asked every 20 ms, fails
     * after max). Asked over a connection of its own: the Admin client sends a topic's DescribeConfigs to whichever
     * broker it likes, which would say nothing of broker 2.
     */
    private static void awaitValue(Tandem broker, ConfigResource resource, String key, String value, long maxMs)
            throws Exception {
        long start = System.nanoTime();
        try (RawKafkaConnection connection = new RawKafkaConnection(broker.kafkaPort())) {
            while (true) {
                DescribeConfigsRequest request = new DescribeConfigsRequest().setResources(List.of(
                        new DescribeConfigsRequest.DescribeConfigsResource().setResourceType(resource.type().id())
                                .setResourceName(resource.name()).setConfigurationKeys(List.of(key))));
                int id = connection.send(ApiKey.DESCRIBE_CONFIGS, (short) 4, request);
                DescribeConfigsResponse.DescribeConfigsResult result = connection.receive(id,
                        ApiKey.DESCRIBE_CONFIGS.responseHeaderVersion((short) 4), (short) 4,
                        DescribeConfigsResponse::read).results.get(0);
                // UNKNOWN_TOPIC_OR_PARTITION while the topic is not known there yet.
                String now = result.errorCode != 0 ? "error " + result.errorCode
                        : result.configs.isEmpty() ? null : result.configs.get(0).value;
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                if (value.equals(now)) return;
                assertTrue(elapsedMs < maxMs, resource + " " + key + " is still " + now + " after " + elapsedMs
                        + " ms");
                Thread.sleep(20);
            }
        }
    }
}
