package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GSSAPI's Kerberos keys as dynamic broker configs, as Kafka 3.9 takes them: a listener's principal-to-local rules set
 * through IncrementalAlterConfigs are stored and described (DYNAMIC_BROKER_CONFIG, not read-only), the running
 * listener keeps the rules it started with (Kafka's SaslChannelBuilder builds its short namer once), and they are in
 * force after the broker restarts. Cluster-wide values are refused with Kafka's error (the keys are per broker), and
 * what the next start could not honour (a rule that does not parse, a service name the login module contradicts)
 * with INVALID_CONFIG.
 */
class DynamicKerberosConfigTest {
    private static final String RULES = "listener.name.sasl_plaintext.sasl.kerberos.principal.to.local.rules";
    @TempDir
    Path dir;

    @Test
    void shouldStoreTheRulesAndApplyThemFromTheNextStart() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path brokerKeytab = kdc.keytab(TestKdc.servicePrincipal("dynkafka"));
        Path clientKeytab = kdc.keytab(TestKdc.servicePrincipal("dynclient"));
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://" + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "GSSAPI")
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config", TestKdc.krb5LoginModule(brokerKeytab,
                        TestKdc.servicePrincipal("dynkafka")).replace(" required ", " required serviceName=\"dynkafka\" "))
                .set("offsets.topic.num.partitions", "1");
        try (Tandem tandem = Tandem.start(config); Admin admin = admin(tandem)) {
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            // One-component principals only: dynclient/localhost, named by DEFAULT until now, would have no name.
            alter(admin, broker, RULES, "RULE:[1:$1]");
            Config described = admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
            ConfigEntry rules = described.get(RULES);
            assertEquals("RULE:[1:$1]", rules.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, rules.source());
            assertFalse(described.get("sasl.kerberos.service.name").isReadOnly(), "updatable, as in Kafka");
            assertFalse(described.get("sasl.kerberos.principal.to.local.rules").isReadOnly());

            ExecutionException clusterWide = assertThrows(ExecutionException.class, () -> alter(admin,
                    new ConfigResource(ConfigResource.Type.BROKER, ""), "sasl.kerberos.principal.to.local.rules",
                    "DEFAULT"));
            assertInstanceOf(InvalidRequestException.class, clusterWide.getCause());
            assertTrue(clusterWide.getCause().getMessage().startsWith("Cannot update these configs at default cluster "
                    + "level, broker id must be specified"), clusterWide.getCause().getMessage());
            ExecutionException badRule = assertThrows(ExecutionException.class,
                    () -> alter(admin, broker, RULES, "RULE:[1:$1"));
            assertInstanceOf(InvalidConfigurationException.class, badRule.getCause());
            ExecutionException conflict = assertThrows(ExecutionException.class,
                    () -> alter(admin, broker, "sasl.kerberos.service.name", "other"));
            assertInstanceOf(InvalidConfigurationException.class, conflict.getCause());
            assertTrue(conflict.getCause().getMessage().contains("Conflicting serviceName values"),
                    conflict.getCause().getMessage());

            // The running listener keeps its rules (DEFAULT), as Kafka's does.
            produce(tandem, clientKeytab);
        }
        try (Tandem restarted = Tandem.start(config)) {
            TimeoutException unnamed = assertThrows(TimeoutException.class, () -> produce(restarted, clientKeytab));
            assertTrue(unnamed.getMessage().contains("metadata"), unnamed.getMessage());
        }
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT"), CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    private static void alter(Admin admin, ConfigResource resource, String key, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, value),
                AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    }

    /** Produces as dynclient/localhost@EXAMPLE.COM; a TimeoutException when the broker never answers. */
    private static void produce(Tandem tandem, Path keytab) throws Exception {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, TestKdc.HOST + ":" + tandem.kafkaPort("SASL_PLAINTEXT"));
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        props.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, "dynkafka");
        props.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(keytab, TestKdc.servicePrincipal("dynclient")));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("dynkrb", "k", "v")).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) throw cause;
            throw e;
        }
    }
}
