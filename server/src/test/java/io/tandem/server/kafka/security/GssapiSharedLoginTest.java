package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.SharedLogin;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.SaslConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker whose GSSAPI listener is also its inter-broker listener logs in to the KDC once for its principal, as
 * Kafka's broker does (one LoginManager for the listener's JAAS context, acquired by the listener and by every
 * inter-broker channel builder): one AS exchange, counted at the test KDC, and one login to renew. As Kafka's
 * LoginManager is the JVM's, a second broker of the JVM with the same login module holds the same login; closing one
 * broker lets its handles go and the other keeps serving GSSAPI clients; the last close releases the login.
 */
class GssapiSharedLoginTest {
    private static final String SERVICE = "kshared";
    private static final String CLIENT = "sharedclient";
    @TempDir
    static Path dir;
    private static Path clientKeytab;

    @Test
    void shouldLogInOnceForTheListenerAndTheClientToOtherBrokers() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String principal = TestKdc.servicePrincipal(SERVICE);
        Path brokerKeytab = kdc.keytab(principal);
        clientKeytab = kdc.keytab(TestKdc.principal(CLIENT));
        String module = TestKdc.krb5LoginModule(brokerKeytab, principal);
        int before = kdc.logins(principal);
        Map<String, String> options = JaasLoginModule.parse(module).options();
        Tandem first = Tandem.start(broker("first", module));
        Tandem second = null;
        try {
            assertEquals(1, kdc.logins(principal) - before, "one AS exchange for the broker's principal");
            assertEquals(2, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT),
                    "held by the listener and by the client to other brokers");
            // The shared login serves both sides: a client authenticates to the listener and the broker's own
            // requests reach it, so a topic is created and described.
            createTopic(first, "shared-login");

            second = Tandem.start(broker("second", module));
            assertEquals(4, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT), "two brokers, one login");
            first.close();
            first = null;
            assertEquals(2, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT), "the closed broker let go");
            createTopic(second, "after-the-first-closed");
            assertEquals(1, kdc.logins(principal) - before, "still one: nothing logged in again");
        } finally {
            if (first != null) first.close();
            if (second != null) second.close();
        }
        assertEquals(0, SharedLogin.users(options, RenewalPolicy.KAFKA_DEFAULT), "released when the brokers closed");
    }

    private static TandemConfig broker(String name, String module) {
        return TandemConfig.forTests(dir.resolve(name))
                .set("listeners", "SASL_PLAINTEXT://" + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "SASL_PLAINTEXT")
                .set("sasl.mechanism.inter.broker.protocol", "GSSAPI")
                .set("sasl.enabled.mechanisms", "GSSAPI")
                .set("sasl.kerberos.service.name", SERVICE)
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config", module)
                .set("offsets.topic.num.partitions", "1");
    }

    /** Creates and describes a topic with the Admin client, logged in with GSSAPI as the client principal. */
    private static void createTopic(Tandem tandem, String topic) throws Exception {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, TestKdc.HOST + ":" + tandem.kafkaPort());
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        props.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, SERVICE);
        props.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(clientKeytab, TestKdc.principal(CLIENT)));
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertEquals(1, admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size());
        }
    }
}
