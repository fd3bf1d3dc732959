package io.tandem.server.cli;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CLI's Kafka commands against a node whose client listener is SASL_SSL, with a {@code --command-config} file
 * as Kafka's own tools take it: TLS with the node's trust store, SASL PLAIN or SCRAM; a wrong password or a missing
 * file is an error, and a listener that wants TLS is never spoken to in plaintext.
 */
class SecuredListenerCommandTest {
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    static Tandem tandem;

    private static final String PLAIN_USERS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";";

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.create(dir);
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512")
                .set("listener.name.sasl_ssl.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.sasl_ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.sasl_ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                .set("listener.name.sasl_ssl.ssl.key.password", TestCertificates.PASSWORD)
                .set("offsets.topic.num.partitions", "1")
                .set("group.initial.rebalance.delay.ms", "0");
        tandem = Tandem.start(config);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, plaintext()))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("bob",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret"))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
    }

    private static String plaintext() {
        return "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT");
    }

    private static String secured() {
        return "127.0.0.1:" + tandem.kafkaPort("SASL_SSL");
    }

    private static Path clientConfig(String name, String mechanism, String module, String user, String password)
            throws Exception {
        return Files.writeString(dir.resolve(name + ".properties"), String.join("\n",
                "security.protocol=SASL_SSL",
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + certificates.trustStore,
                "ssl.truststore.password=" + TestCertificates.PASSWORD,
                "ssl.endpoint.identification.algorithm=",
                "sasl.mechanism=" + mechanism,
                "sasl.jaas.config=" + module + " required username=\"" + user + "\" password=\"" + password + "\";",
                ""));
    }

    private static Path plain(String user, String password) throws Exception {
        return clientConfig("plain-" + user, "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule",
                user, password);
    }

    @Test
    void shouldCreateListAndDescribeTopicsOverSaslSslWithPlain() throws Exception {
        Path config = plain("alice", "alice-secret");
        Cli.Result created = Cli.run("topics", "create", "secured-topic", "--partitions", "2",
                "--bootstrap-server", secured(), "--command-config", config.toString());
        assertEquals(0, created.exitCode(), created.toString());
        Cli.Result listed = Cli.run("topics", "list", "--bootstrap-server", secured(),
                "--command-config", config.toString());
        assertEquals(0, listed.exitCode(), listed.toString());
        assertTrue(listed.out().lines().anyMatch(line -> line.startsWith("secured-topic ")), listed.out());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, plaintext()))) {
            assertEquals(2, admin.describeTopics(List.of("secured-topic")).allTopicNames().get()
                    .get("secured-topic").partitions().size());
        }
    }

    @Test
    void shouldProduceAndConsumeOverSaslSslWithScram() throws Exception {
        Path config = clientConfig("scram-bob", "SCRAM-SHA-512",
                "org.apache.kafka.common.security.scram.ScramLoginModule", "bob", "bob-secret");
        Cli.Result created = Cli.run("topics", "create", "scram-topic", "--bootstrap-server", secured(),
                "--command-config", config.toString());
        assertEquals(0, created.exitCode(), created.toString());
        Path input = Files.writeString(dir.resolve("records.txt"), "first\nsecond\n");
        Cli.Result produced = Cli.run("produce", "--topic", "scram-topic", "--file", input.toString(),
                "--bootstrap-server", secured(), "--producer.config", config.toString());
        assertEquals(0, produced.exitCode(), produced.toString());
        Cli.Result consumed = Cli.run("consume", "--topic", "scram-topic", "--from-beginning", "--max-messages", "2",
                "--bootstrap-server", secured(), "--consumer.config", config.toString());
        assertEquals(0, consumed.exitCode(), consumed.toString());
        assertEquals("first\nsecond\n", consumed.out());
    }

    @Test
    void shouldFailWithTheBrokersAuthenticationErrorOnAWrongPassword() throws Exception {
        Cli.Result refused = Cli.run("topics", "list", "--bootstrap-server", secured(),
                "--command-config", plain("alice", "wrong").toString());
        assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("Authentication failed"), refused.err());
    }

    @Test
    void shouldRefuseSettingsItCannotHonourInsteadOfFallingBackToPlaintext() throws Exception {
        Path gssapi = Files.writeString(dir.resolve("gssapi.properties"), "security.protocol=SASL_SSL\n");
        Cli.Result refused = Cli.run("topics", "list", "--bootstrap-server", secured(),
                "--command-config", gssapi.toString());
        assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
        // Kafka's default mechanism, GSSAPI, needs a Kerberos login that neither the file nor a JAAS file gives:
        // Kafka's words (JaasContext), and what to set.
        assertTrue(refused.err().contains("Could not find a 'KafkaClient' entry in the JAAS configuration."),
                refused.err());
        assertTrue(refused.err().contains("set sasl.jaas.config"), refused.err());
        assertTrue(refused.err().contains("sasl.mechanism is Kafka's default, GSSAPI"), refused.err());

        Cli.Result missing = Cli.run("topics", "list", "--bootstrap-server", secured(),
                "--command-config", dir.resolve("no-such-file").toString());
        assertEquals(ExitCodes.USAGE, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("cannot read"), missing.err());
    }
}
