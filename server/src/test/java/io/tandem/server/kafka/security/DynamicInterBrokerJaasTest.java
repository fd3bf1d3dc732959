package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The login module of the inter-broker listener's mechanism set as a dynamic config: it also holds this broker's own
 * login to other brokers, which Tandem's client side reads from server.properties only, so a module that keeps that
 * login (other users) is stored, as Kafka stores it, and one that changes it is refused with INVALID_CONFIG naming why.
 */
class DynamicInterBrokerJaasTest {
    private static final String KEY = "listener.name.sasl_plaintext.plain.sasl.jaas.config";
    private static final String MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule required ";

    @TempDir
    Path dir;

    @Test
    void shouldStoreNewUsersButRefuseAnotherOwnLoginOnTheInterBrokerListener() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir)
                .set("listeners", "SASL_PLAINTEXT://127.0.0.1:0")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("sasl.mechanism.inter.broker.protocol", "PLAIN")
                .set(KEY, MODULE + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\";")
                .set("password.encoder.secret", "inter-broker-encoder-secret"));
             Admin admin = Admin.create(Map.of(
                     CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort(),
                     CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "PLAIN",
                     SaslConfigs.SASL_JAAS_CONFIG, MODULE + "username=\"admin\" password=\"admin-secret\";",
                     CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            set(admin, MODULE + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" "
                    + "user_bob=\"bob-secret\";");
            ExecutionException refused = assertThrows(ExecutionException.class, () -> set(admin, MODULE
                    + "username=\"admin\" password=\"rotated\" user_admin=\"rotated\";"));
            assertInstanceOf(InvalidConfigurationException.class, refused.getCause());
            assertTrue(refused.getCause().getMessage().contains("own login to other brokers"),
                    refused.getCause().getMessage());
        }
    }

    private static void set(Admin admin, String module) throws Exception {
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, "0"), List.of(
                new AlterConfigOp(new ConfigEntry(KEY, module), AlterConfigOp.OpType.SET)))).all()
                .get(30, TimeUnit.SECONDS);
    }
}
