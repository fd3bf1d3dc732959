package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.security.EncryptingPasswordEncoder;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SASL listener's login module set as a dynamic broker config ({@code listener.name.<listener>.plain.sasl.jaas.config}
 * through IncrementalAlterConfigs), as Kafka 3.9 in ZooKeeper mode takes it: stored in {@code /config/brokers/0}
 * encrypted with password.encoder.secret (Kafka's own EncryptingPasswordEncoder decrypts it), described as a
 * sensitive per-broker value, refused at the cluster-default level, and in force from the broker's next start (Kafka's
 * SaslChannelBuilder never reconfigures its JAAS contexts, so the running listener keeps the logins it started with).
 * A real Admin client over SASL_PLAINTEXT proves which credentials the listener takes before and after the restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DynamicJaasConfigTest {
    private static final String SECRET = "jaas-encoder-secret";
    private static final String KEY = "listener.name.sasl_plaintext.plain.sasl.jaas.config";
    private static final String STATIC_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "user_alice=\"old-secret\";";
    private static final String DYNAMIC_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "user_alice=\"new-secret\" user_bob=\"bob-secret\";";

    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(config());
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static TandemConfig config() {
        return TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set(KEY, STATIC_LOGINS)
                .set("password.encoder.secret", SECRET);
    }

    private static Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT"), CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    /** Whether a real client logging in with PLAIN as {@code user} is served by the SASL listener. */
    private static boolean logsIn(String user, String password) throws Exception {
        try (Admin admin = Admin.create(Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"),
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"" + user + "\" password=\"" + password + "\";",
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), "refused for its credentials");
            return false;
        }
    }

    private static void set(Admin admin, String resource, boolean validateOnly, String key, String value)
            throws Exception {
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, resource),
                        List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET))),
                new AlterConfigsOptions().validateOnly(validateOnly)).all().get(30, TimeUnit.SECONDS);
    }

    private static JsonNode storedConfig() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + tandem.zookeeperPort(), 30_000, e -> connected.countDown());
        try {
            assertTrue(connected.await(30, TimeUnit.SECONDS));
            return new ObjectMapper().readTree(zk.getData("/config/brokers/0", false, null)).get("config");
        } catch (org.apache.zookeeper.KeeperException.NoNodeException none) {
            return null;
        } finally {
            zk.close();
        }
    }

    @Test
    @Order(1)
    void shouldRefuseALoginModuleAtTheClusterDefaultOrOneThatCannotBeRead() throws Exception {
        try (Admin admin = admin()) {
            ExecutionException clusterWide = assertThrows(ExecutionException.class,
                    () -> set(admin, "", false, KEY, DYNAMIC_LOGINS));
            assertInstanceOf(InvalidRequestException.class, clusterWide.getCause());
            assertTrue(clusterWide.getCause().getMessage().contains("broker id must be specified"),
                    clusterWide.getCause().getMessage());
            ExecutionException unreadable = assertThrows(ExecutionException.class,
                    () -> set(admin, "0", false, KEY, "org.apache.kafka.common.security.plain.PlainLoginModule "
                            + "required user_alice=\"x\""));
            assertInstanceOf(InvalidConfigurationException.class, unreadable.getCause());
            assertTrue(unreadable.getCause().getMessage().contains("not terminated by semi-colon"),
                    unreadable.getCause().getMessage());
            assertFalse(unreadable.getCause().getMessage().contains("user_alice"), "the value is never repeated");
            ExecutionException otherModule = assertThrows(ExecutionException.class,
                    () -> set(admin, "0", false, KEY, "org.apache.kafka.common.security.scram.ScramLoginModule "
                            + "required;"));
            assertInstanceOf(InvalidConfigurationException.class, otherModule.getCause());
            set(admin, "0", true, KEY, DYNAMIC_LOGINS); // validateOnly stores nothing
        }
        JsonNode stored = storedConfig();
        assertNull(stored == null ? null : stored.get(KEY), "nothing stored by refusals");
    }

    @Test
    @Order(2)
    void shouldStoreTheLoginModuleEncryptedAndDescribeItAsASensitiveBrokerValue() throws Exception {
        try (Admin admin = admin()) {
            set(admin, "0", false, KEY, DYNAMIC_LOGINS);
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config described = admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
            ConfigEntry entry = described.get(KEY);
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, entry.source());
            assertNull(entry.value());
            assertTrue(entry.isSensitive());
            assertTrue(entry.isReadOnly(), "as Kafka: a listener.name. key is never in AllDynamicConfigs");
        }
        String stored = storedConfig().get(KEY).asText();
        assertFalse(stored.contains("new-secret"), "stored encrypted: " + stored);
        EncryptingPasswordEncoder kafka = new EncryptingPasswordEncoder(new Password(SECRET), null,
                "AES/CBC/PKCS5Padding", 128, 4096);
        assertEquals(DYNAMIC_LOGINS, kafka.decode(stored).value(), "as Kafka's encoder encrypts it");
    }

    @Test
    @Order(3)
    void shouldKeepTheRunningListenersLoginsUntilTheBrokerRestartsAsKafkaDoes() throws Exception {
        assertTrue(logsIn("alice", "old-secret"), "the running listener keeps the logins it started with");
        assertFalse(logsIn("alice", "new-secret"));
        assertFalse(logsIn("bob", "bob-secret"));

        tandem.close();
        tandem = Tandem.start(config());

        assertTrue(logsIn("alice", "new-secret"), "after the restart the stored login module is in force");
        assertTrue(logsIn("bob", "bob-secret"));
        assertFalse(logsIn("alice", "old-secret"), "the static one is overridden");
    }
}
