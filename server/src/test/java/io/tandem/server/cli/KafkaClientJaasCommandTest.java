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

        // Another mechanism's module is logged in with, as Kafka's client does (its ScramLoginModule puts the
        // username and password in the subject as PlainLoginModule does): bob is no PLAIN user of the listener.
        jaasFile(kafkaClient("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" "
                + "password=\"bob-secret\";"));
        Cli.Result mismatched = topicsList("PLAIN");
        assertEquals(ExitCodes.ERROR, mismatched.exitCode(), mismatched.toString());
        assertTrue(mismatched.err().contains("Authentication failed"), mismatched.err());
        assertEquals("failed", kafkaClientOutcome("PLAIN"), "Kafka's own client with that section");
    }

    private static final String PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";
    private static final String SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";

    /**
     * A KafkaClient section with several login modules, as Kafka's clients take it (JaasContext keeps every entry,
     * and LoginManager runs them all in one LoginContext): PLAIN and SCRAM send the first username and the first
     * password of the subject's credentials (hash-set order), whichever of the two modules put them there, GSSAPI logs in with the Krb5LoginModule beside the others, and
     * OAUTHBEARER's login callback handler refuses anything but one module. Kafka's own Admin client (kafka-clients in
     * test scope, reading the same JVM-wide JAAS configuration) and the CLI are run on each section: they must both
     * succeed, both fail authentication, or both refuse with Kafka's words.
     */
    @Test
    void shouldTakeASectionWithSeveralLoginModulesAsKafkasOwnClient() throws Exception {
        String alicePlain = PLAIN_MODULE + " required username=\"alice\" password=\"alice-secret\";";
        String bobScram = SCRAM_MODULE + " required username=\"bob\" password=\"bob-secret\";";
        String kerberos = TestKdc.krb5LoginModule(clientKeytab, TestKdc.principal("jaascli"))
                .replace(" required ", " required serviceName=\"" + SERVICE + "\" ");
        String oauth = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                + "unsecuredLoginStringClaim_sub=\"alice\";";
        String aliceScram = SCRAM_MODULE + " required username=\"alice\" password=\"alice-secret\";";
        List<String[]> cases = List.of(
                new String[] {"PLAIN", aliceScram, "ok"},
                // Which of two users is sent is the hash order of the subject's credentials: the same as Kafka's.
                new String[] {"PLAIN", alicePlain + "\n    " + bobScram, null},
                new String[] {"PLAIN", bobScram + "\n    " + alicePlain, null},
                new String[] {"SCRAM-SHA-512", bobScram + "\n    " + alicePlain, null},
                new String[] {"PLAIN", alicePlain + "\n    " + alicePlain.replace("alice\" ", "alice\" x=\"y\" "),
                        "ok"},
                new String[] {"GSSAPI", kerberos + "\n    " + alicePlain, "ok"},
                new String[] {"OAUTHBEARER", oauth + "\n    " + alicePlain,
                        "Must supply exactly 1 non-null JAAS mechanism configuration (size was 2)"});
        for (String[] c : cases) {
            jaasFile(kafkaClient(c[1]));
            String kafkas = kafkaClientOutcome(c[0]);
            Cli.Result listed = topicsList(c[0]);
            String tandems = listed.exitCode() == 0 ? "ok"
                    : listed.err().contains("Authentication failed") ? "failed" : listed.err();
            if (c[2] == null) {
                assertEquals(kafkas, tandems, c[0] + " with " + c[1] + ": the CLI " + listed);
                continue;
            }
            assertTrue(kafkas.contains(c[2]), c[0] + " with " + c[1] + ": Kafka's client " + kafkas);
            assertTrue(tandems.contains(c[2]), c[0] + " with " + c[1] + ": the CLI " + listed);
            if (!c[2].equals("ok") && !c[2].equals("failed")) {
                assertEquals(ExitCodes.USAGE, listed.exitCode(), listed.toString());
            }
        }
    }

    /** What Kafka's Admin client does with the JVM's KafkaClient section: ok, failed (authentication), or the error. */
    private static String kafkaClientOutcome(String mechanism) {
        Map<String, Object> settings = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKdc.HOST + ":" + tandem.kafkaPort("SASL_PLAINTEXT"),
                AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                org.apache.kafka.common.config.SaslConfigs.SASL_MECHANISM, mechanism,
                org.apache.kafka.common.config.SaslConfigs.SASL_KERBEROS_SERVICE_NAME, SERVICE,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        try (Admin admin = Admin.create(settings)) {
            admin.listTopics().names().get(30, java.util.concurrent.TimeUnit.SECONDS);
            return "ok";
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause() instanceof org.apache.kafka.common.errors.SaslAuthenticationException ? "failed"
                    : e.getCause().toString();
        } catch (Exception e) {
            StringBuilder all = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) all.append(t).append(" / ");
            return all.toString();
        }
    }
}
