package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DescribeConfigs(BROKER) lists the static per-listener keys and the listener security keys as Kafka 3.9 lists them
 * (ConfigHelper.createBrokerConfigEntry over every key the broker started with): {@code listener.name.<l>.<key>} with
 * source STATIC_BROKER_CONFIG, the base key as a synonym (Kafka's brokerConfigSynonyms with matchListenerOverride),
 * the base key's type, read-only (a prefixed name is never in DynamicBrokerConfig.AllDynamicConfigs), and passwords
 * (a key store password, a login module) with value null and isSensitive; the base ssl.* / sasl.* keys a listener
 * honours with their static value or Kafka's default; the authorizer's super.users, not a KafkaConfig key, as Kafka
 * lists such a key: no type, hence sensitive, value null.
 */
class ListenerDescribeConfigsTest {
    @TempDir
    Path dir;

    @Test
    void shouldListStaticListenerKeysWithTheirBaseSynonymsAndHidePasswords() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        String keyStore = certificates.serverKeyStore.toString();
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"secret\";")
                .set("listener.name.sasl_plaintext.connections.max.reauth.ms", "60000")
                .set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.ssl.ssl.keystore.location", keyStore)
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                .set("super.users", "User:admin"));
             Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config config = admin.describeConfigs(List.of(broker), new DescribeConfigsOptions().includeSynonyms(true))
                    .all().get(30, TimeUnit.SECONDS).get(broker);

            ConfigEntry location = config.get("listener.name.ssl.ssl.keystore.location");
            assertNotNull(location, "a static listener key is listed");
            assertEquals(keyStore, location.value());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG, location.source());
            assertFalse(location.isSensitive());
            assertTrue(location.isReadOnly());
            assertEquals(ConfigEntry.ConfigType.STRING, location.type());

            ConfigEntry type = config.get("listener.name.ssl.ssl.keystore.type");
            assertEquals("PKCS12", type.value());
            // The override, then the base key's default, as Kafka's configSynonyms lists them.
            assertEquals(List.of("listener.name.ssl.ssl.keystore.type=PKCS12 (STATIC_BROKER_CONFIG)",
                    "ssl.keystore.type=JKS (DEFAULT_CONFIG)"), synonyms(type));

            ConfigEntry password = config.get("listener.name.ssl.ssl.keystore.password");
            assertNull(password.value());
            assertTrue(password.isSensitive());
            assertEquals(ConfigEntry.ConfigType.PASSWORD, password.type());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG, password.source());
            assertEquals(List.of("listener.name.ssl.ssl.keystore.password=null (STATIC_BROKER_CONFIG)"),
                    synonyms(password));

            ConfigEntry logins = config.get("listener.name.sasl_plaintext.plain.sasl.jaas.config");
            assertNull(logins.value(), "a login module holds passwords");
            assertTrue(logins.isSensitive());
            assertEquals(ConfigEntry.ConfigType.PASSWORD, logins.type());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG, logins.source());

            ConfigEntry reauth = config.get("listener.name.sasl_plaintext.connections.max.reauth.ms");
            assertEquals("60000", reauth.value());
            assertEquals(ConfigEntry.ConfigType.LONG, reauth.type());
            assertEquals(List.of("listener.name.sasl_plaintext.connections.max.reauth.ms=60000 (STATIC_BROKER_CONFIG)",
                    "connections.max.reauth.ms=0 (DEFAULT_CONFIG)"), synonyms(reauth));

            ConfigEntry mechanisms = config.get("sasl.enabled.mechanisms");
            assertEquals("PLAIN", mechanisms.value());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG, mechanisms.source());
            ConfigEntry clientAuth = config.get("ssl.client.auth");
            assertEquals("none", clientAuth.value());
            assertEquals(ConfigSource.DEFAULT_CONFIG, clientAuth.source());
            assertEquals("JKS", config.get("ssl.keystore.type").value());
            assertNull(config.get("ssl.keystore.password").value());
            assertTrue(config.get("ssl.keystore.password").isSensitive());
            // Not a KafkaConfig key: Kafka lists it with no type, hence as sensitive.
            ConfigEntry superUsers = config.get("super.users");
            assertNotNull(superUsers);
            assertNull(superUsers.value());
            assertTrue(superUsers.isSensitive());
            assertEquals(ConfigSource.STATIC_BROKER_CONFIG, superUsers.source());
            assertEquals(ConfigEntry.ConfigType.UNKNOWN, superUsers.type());
            assertNull(config.get("allow.everyone.if.no.acl.found"), "listed only when set, as Kafka");
            for (ConfigEntry entry : config.entries()) {
                if (entry.isSensitive()) {
                    assertNull(entry.value(), entry.name());
                    entry.synonyms().forEach(s -> assertNull(s.value(), s.name()));
                }
            }
        }
    }

    private static List<String> synonyms(ConfigEntry entry) {
        return entry.synonyms().stream().map(s -> s.name() + "=" + s.value() + " (" + s.source() + ")").toList();
    }
}
