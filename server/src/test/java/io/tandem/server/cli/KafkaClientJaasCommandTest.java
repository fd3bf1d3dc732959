package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.List;
import java.util.Map;
import javax.security.auth.login.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's Kafka commands log in from the {@code KafkaClient} section of the JVM's JAAS file when the
 * {@code --command-config} file has no {@code sasl.jaas.config}, as Kafka's clients do (JaasContext.loadClientContext):
 * PLAIN, SCRAM-SHA-512 and GSSAPI (a Krb5LoginModule keytab login whose {@code serviceName} option names the broker's
 * service). A wrong password in the section is the broker's authentication error, so the section is what the command
 * logged in with; a JAAS configuration without the section is a usage error with Kafka's words. The JAAS file is put
 * in force as the JDK reads {@code -Djava.security.auth.login.config} (a file-based Configuration).
 */
class KafkaClientJaasCommandTest {
    private static final String SERVICE = "kafkajaascli";
    private static final String PLAIN_USERS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "user_alice=\"alice-secret\";";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Path clientKeytab;
    static Configuration previousJaas;
    private static int files;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path brokerKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        clientKeytab = kdc.keytab(TestKdc.principal("jaascli"));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://" + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512,GSSAPI")
                .set("sasl.kerberos.service.name", SERVICE)
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config",
                        TestKdc.krb5LoginModule(brokerKeytab, TestKdc.servicePrincipal(SERVICE)))
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("bob",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret"))).all().get();
        }
        previousJaas = Configuration.getConfiguration();
    }

    @AfterEach
    void restoreJaas() {
        Configuration.setConfiguration(previousJaas);
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    /** Puts a JAAS file with {@code sections} in force, as the JDK reads the one the system property names. */
    private static void jaasFile(String sections) throws Exception {
        Path file = Files.writeString(dir.resolve("jaas-" + (++files) + ".conf"), sections);
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(file.toUri())));
    }

    private static String kafkaClient(String module) {
        return "KafkaClient {\n    " + module + "\n};\n";
    }

    /** A command config with the protocol and mechanism only: no sasl.jaas.config. */
    private static Path commandConfig(String mechanism) throws Exception {
        return Files.writeString(dir.resolve(mechanism + ".properties"),
                "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=" + mechanism + "\n");
    }

    private static Cli.Result topicsList(String mechanism) throws Exception {
        return Cli.run("topics", "list", "--bootstrap-server", TestKdc.HOST + ":" + tandem.kafkaPort("SASL_PLAINTEXT"),
                "--command-config", commandConfig(mechanism).toString());
    }

    @Test
    void shouldLogInWithPlainFromTheKafkaClientSection() throws Exception {
        jaasFile(kafkaClient("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
                + "password=\"alice-secret\";"));
        Cli.Result listed = topicsList("PLAIN");
        assertEquals(0, listed.exitCode(), listed.toString());

        jaasFile(kafkaClient("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
                + "password=\"wrong\";"));
        Cli.Result refused = topicsList("PLAIN");
        assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("Authentication failed"), refused.err());
    }

    @Test
    void shouldLogInWithScramFromTheKafkaClientSection() throws Exception {
        jaasFile(kafkaClient("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" "
                + "password=\"bob-secret\";"));
        Cli.Result listed = topicsList("SCRAM-SHA-512");
        assertEquals(0, listed.exitCode(), listed.toString());
    }

    @Test
    void shouldLogInWithKerberosFromTheKafkaClientSection() throws Exception {
        // The service name from the module's serviceName option, as Kafka's clients read it from the JAAS context.
        jaasFile(kafkaClient(TestKdc.krb5LoginModule(clientKeytab, TestKdc.principal("jaascli"))
                .replace(" required ", " required serviceName=\"" + SERVICE + "\" ")));
        Cli.Result listed = topicsList("GSSAPI");
        assertEquals(0, listed.exitCode(), listed.toString());
    }

    @Test
    void shouldRefuseWithKafkasWordsWhenTheJaasFileHasNoKafkaClientSection() throws Exception {
        jaasFile("Client {\n    org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
                + "password=\"alice-secret\";\n};\n");
        Cli.Result refused = topicsList("PLAIN");
        assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("Could not find a 'KafkaClient' entry in the JAAS configuration."),
                refused.err());

        // A section for another mechanism's module is refused, not logged in with.
        jaasFile(kafkaClient("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" "
                + "password=\"bob-secret\";"));
        Cli.Result mismatched = topicsList("PLAIN");
        assertEquals(ExitCodes.USAGE, mismatched.exitCode(), mismatched.toString());
        assertTrue(mismatched.err().contains("the JAAS section KafkaClient names "
                + "org.apache.kafka.common.security.scram.ScramLoginModule, but SASL PLAIN logs in with "
                + "org.apache.kafka.common.security.plain.PlainLoginModule"), mismatched.err());
    }
}
