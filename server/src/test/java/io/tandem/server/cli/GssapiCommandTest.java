package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.kerberos.GssapiTestBroker;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's Kafka commands over SASL GSSAPI against a real KDC, with a {@code --command-config} file as Kafka's own
 * tools take it: {@code sasl.mechanism=GSSAPI}, a Krb5LoginModule keytab login in {@code sasl.jaas.config} and
 * {@code sasl.kerberos.service.name}. The broker's authorizer lets only one principal act, so a command that works
 * really authenticated as that principal; another principal is refused by the authorizer, and a keytab that cannot
 * log in is a usage error naming the login.
 */
class GssapiCommandTest {
    /** The broker's Kerberos service (the KDC makes each principal once per JVM, so not Kafka's usual name). */
    private static final String SERVICE = "kafkacli";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Path clientKeytab;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path brokerKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        clientKeytab = kdc.keytab(TestKdc.principal("clialice"), TestKdc.principal("clibob"));
        tandem = Tandem.start(GssapiTestBroker.config(dir.resolve("node"), SERVICE, brokerKeytab)
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:ANONYMOUS;User:clialice")
                .set("offsets.topic.num.partitions", "1")
                .set("group.initial.rebalance.delay.ms", "0"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static String secured() {
        return TestKdc.HOST + ":" + tandem.kafkaPort("SASL_PLAINTEXT");
    }

    private static Path gssapi(String user, Path keytab) throws Exception {
        return Files.writeString(dir.resolve("gssapi-" + user + ".properties"), String.join("\n",
                "security.protocol=SASL_PLAINTEXT",
                "sasl.mechanism=GSSAPI",
                "sasl.kerberos.service.name=" + SERVICE,
                "sasl.jaas.config=" + TestKdc.krb5LoginModule(keytab, TestKdc.principal(user)).replace("\\", "\\\\"),
                ""));
    }

    @Test
    void shouldCreateProduceAndConsumeAsTheKeytabsPrincipal() throws Exception {
        Path config = gssapi("clialice", clientKeytab);
        Cli.Result created = Cli.run("topics", "create", "kerberized-cli", "--bootstrap-server", secured(),
                "--command-config", config.toString());
        assertEquals(0, created.exitCode(), created.toString());
        Path input = Files.writeString(dir.resolve("records.txt"), "first\nsecond\n");
        Cli.Result produced = Cli.run("produce", "--topic", "kerberized-cli", "--file", input.toString(),
                "--bootstrap-server", secured(), "--producer.config", config.toString());
        assertEquals(0, produced.exitCode(), produced.toString());
        Cli.Result consumed = Cli.run("consume", "--topic", "kerberized-cli", "--from-beginning", "--max-messages",
                "2", "--bootstrap-server", secured(), "--consumer.config", config.toString());
        assertEquals(0, consumed.exitCode(), consumed.toString());
        assertEquals("first\nsecond\n", consumed.out());
    }

    @Test
    void shouldBeRefusedByTheAuthorizerAsAnotherPrincipal() throws Exception {
        Cli.Result refused = Cli.run("topics", "create", "not-for-bob", "--bootstrap-server", secured(),
                "--command-config", gssapi("clibob", clientKeytab).toString());
        assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
        assertTrue(refused.err().toLowerCase(java.util.Locale.ROOT).contains("authoriz"), refused.err());
    }

    @Test
    void shouldFailWithAUsageErrorWhenTheKeytabCannotLogIn() throws Exception {
        Cli.Result refused = Cli.run("topics", "list", "--bootstrap-server", secured(),
                "--command-config", gssapi("clialice", dir.resolve("no-such.keytab")).toString());
        assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("Kerberos login"), refused.err());
    }
}
