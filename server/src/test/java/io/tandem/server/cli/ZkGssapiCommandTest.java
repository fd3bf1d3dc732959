package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import javax.security.auth.login.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's {@code zk} commands log in with SASL as zkCli does: when the JVM's JAAS configuration has the
 * {@code Client} section (here a Krb5LoginModule keytab login), with the ZooKeeper client's system properties. The
 * ZooKeeper node enforces SASL, so a command works only if it logged in, and a node whose ACL names the principal
 * alone stays readable by it. A section named explicitly but missing is a usage error with Apache's words.
 */
class ZkGssapiCommandTest {
    /** The ZooKeeper service (the KDC makes each principal once per JVM, so not ZooKeeper's default name). */
    private static final String SERVICE = "zkclisvc";
    private static final String USER = "clizk";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Configuration previousJaas;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path serverKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        Path clientKeytab = kdc.keytab(TestKdc.principal(USER));
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), "Server {\n    "
                + TestKdc.krb5LoginModule(serverKeytab, TestKdc.servicePrincipal(SERVICE)) + "\n};\n");
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), "Client {\n    "
                + TestKdc.krb5LoginModule(clientKeytab, TestKdc.principal(USER)) + "\n};\n");
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl"));
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(clientJaas.toUri())));
        System.setProperty("zookeeper.sasl.client.username", SERVICE);
        System.setProperty("zookeeper.sasl.client.canonicalize.hostname", "false");
    }

    @AfterAll
    static void stop() {
        Configuration.setConfiguration(previousJaas);
        System.clearProperty("zookeeper.sasl.client.username");
        System.clearProperty("zookeeper.sasl.client.canonicalize.hostname");
        if (tandem != null) tandem.close();
    }

    private static Cli.Result zk(String... args) {
        List<String> full = new ArrayList<>(List.of("zk", args[0], "--server", TestKdc.HOST + ":"
                + tandem.zookeeperPort(), "--connect-timeout-ms", "15000"));
        full.addAll(List.of(args).subList(1, args.length));
        return Cli.run(full.toArray(String[]::new));
    }

    @Test
    void shouldLogInWithTheJaasClientSectionsKerberosPrincipal() {
        Cli.Result created = zk("create", "/krb-cli", "mine");
        assertEquals(0, created.exitCode(), created.toString());
        String onlyMe = "sasl:" + TestKdc.principal(USER) + ":cdrwa";
        Cli.Result restricted = zk("setAcl", "/krb-cli", onlyMe);
        assertEquals(0, restricted.exitCode(), restricted.toString());
        Cli.Result acl = zk("getAcl", "/krb-cli");
        assertEquals(0, acl.exitCode(), acl.toString());
        assertEquals(onlyMe + "\n", acl.out());
        Cli.Result read = zk("get", "/krb-cli");
        assertEquals(0, read.exitCode(), read.toString());
        assertTrue(read.out().startsWith("mine"), read.out());
    }

    @Test
    void shouldNotGetInWithSaslSwitchedOff() {
        System.setProperty("zookeeper.sasl.client", "false");
        try {
            Cli.Result refused = zk("ls", "/");
            assertNotEquals(0, refused.exitCode(), "enforce.auth lets no unauthenticated request in: " + refused);
        } finally {
            System.clearProperty("zookeeper.sasl.client");
        }
    }

    @Test
    void shouldRefuseAnExplicitSectionThatIsMissing() {
        System.setProperty("zookeeper.sasl.clientconfig", "NoSuchSection");
        try {
            Cli.Result refused = zk("ls", "/");
            assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
            assertTrue(refused.err().contains("Client cannot SASL-authenticate because the specified JAAS "
                    + "configuration section 'NoSuchSection' could not be found."), refused.err());
        } finally {
            System.clearProperty("zookeeper.sasl.clientconfig");
        }
    }
}
