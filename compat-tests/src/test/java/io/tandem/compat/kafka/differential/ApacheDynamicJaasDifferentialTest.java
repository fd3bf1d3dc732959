package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A SASL listener's login module changed through IncrementalAlterConfigs
 * ({@code listener.name.<l>.plain.sasl.jaas.config}), on Apache Kafka 3.9.1 in ZooKeeper mode and on Tandem with the
 * same settings: both accept and store it (described DYNAMIC_BROKER_CONFIG, value null, sensitive), and on both the
 * running listener keeps the logins it started with (Kafka's SaslChannelBuilder never reconfigures its JAAS
 * contexts): a real client with the old password is still served and one with the new password is refused. That the
 * stored module is in force after a restart is Tandem's DynamicJaasConfigTest.
 */
class ApacheDynamicJaasDifferentialTest {
    private static final String KEY = "listener.name.plaintext.plain.sasl.jaas.config";
    /** The broker's own login (admin) stays, so the brokers keep reaching their own listener. */
    private static final String STATIC_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"old-secret\";";
    private static final String NEW_LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"new-secret\";";

    @TempDir
    Path dir;

    @Test
    void shouldStoreAChangedLoginModuleAndKeepTheRunningListenersLoginsAsApacheKafka39Does() throws Exception {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.putAll(Map.of(
                "listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT",
                "inter.broker.listener.name", "PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                KEY, STATIC_LOGINS,
                "password.encoder.secret", "differential-encoder-secret"));
        TandemConfig zookeeperConfig = TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        settings.forEach(kafkaConfig::set);
        try (Tandem zookeeper = Tandem.start(zookeeperConfig);
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     settings);
             Tandem tandem = Tandem.start(kafkaConfig)) {
            awaitLogin(apache);
            for (int port : List.of(apache.port(), tandem.kafkaPort())) {
                String side = port == apache.port() ? "Apache Kafka " + apache.version() : "Tandem";
                try (Admin admin = client(port, "admin", "admin-secret")) {
                    ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
                    admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(
                            new ConfigEntry(KEY, NEW_LOGINS), AlterConfigOp.OpType.SET)))).all().get(60, TimeUnit.SECONDS);
                    Config described = admin.describeConfigs(List.of(broker)).all().get(60, TimeUnit.SECONDS).get(broker);
                    ConfigEntry entry = described.get(KEY);
                    assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, entry.source(), side);
                    assertNull(entry.value(), side);
                    assertTrue(entry.isSensitive(), side);
                }
                // Kafka's brokers apply dynamic configs from their change notifications: give them the time to.
                Thread.sleep(2_000);
                assertTrue(logsIn(port, "alice", "old-secret"), side + " keeps the logins the listener started with");
                assertEquals(false, logsIn(port, "alice", "new-secret"), side + " does not take the new ones yet");
            }
        }
    }

    private static Admin client(int port, String user, String password) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"" + user + "\" password=\"" + password + "\";",
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /** Whether a real client logging in with PLAIN as {@code user} is served. */
    private static boolean logsIn(int port, String user, String password) throws Exception {
        try (Admin admin = client(port, user, password)) {
            admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), "refused for its credentials");
            return false;
        }
    }

    private static void awaitLogin(ApacheBroker apache) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!apache.alive()) fail("Apache Kafka exited:\n" + apache.logTail());
            try (Admin admin = client(apache.port(), "admin", "admin-secret")) {
                if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("Apache Kafka did not get ready:\n" + apache.logTail());
    }
}
