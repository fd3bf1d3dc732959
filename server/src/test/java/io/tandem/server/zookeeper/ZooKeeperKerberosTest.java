package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL GSSAPI (Kerberos) on the ZooKeeper client port against a real KDC, as Apache 3.9 configures it: the JAAS
 * Server section logs in with Krb5LoginModule from a keytab, the official 3.9 client logs in from its own keytab
 * (a Client-style section), and the sasl id is what Apache derives from the principal: the realm kept by default
 * (zkalice@EXAMPLE.COM), the host removed under kerberos.removeHostFromPrincipal (zkhost/localhost@EXAMPLE.COM ->
 * zkhost@EXAMPLE.COM). A sasl ACL admits its principal only; a ticket for a service the server has no key for fails.
 * Apache 3.9.5's own server, run in this JVM with the same section, derives the same ids.
 */
class ZooKeeperKerberosTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static Configuration previousJaas;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path serverKeytab = kdc.keytab(TestKdc.servicePrincipal("zookeeper"));
        Path clientKeytab = kdc.keytab(TestKdc.principal("zkalice"), TestKdc.principal("zkbob"),
                TestKdc.servicePrincipal("zkhost"), TestKdc.servicePrincipal("notzookeeper"));
        Path serverJaas = dir.resolve("server-jaas.conf");
        Files.writeString(serverJaas, "Server {\n" + krb5(serverKeytab, TestKdc.servicePrincipal("zookeeper")) + "\n};\n");
        Path clientJaas = dir.resolve("client-jaas.conf");
        // The JVM-wide configuration also has the Server section, for Apache's own server in the side-by-side test.
        Files.writeString(clientJaas, String.join("\n",
                "Server {", krb5(serverKeytab, TestKdc.servicePrincipal("zookeeper")), "};",
                "ZkAlice {", krb5(clientKeytab, TestKdc.principal("zkalice")), "};",
                "ZkBob {", krb5(clientKeytab, TestKdc.principal("zkbob")), "};",
                "ZkHost {", krb5(clientKeytab, TestKdc.servicePrincipal("zkhost")), "};", ""));
        // The client reads the JVM-wide JAAS configuration; the server reads its own file (the config key).
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(clientJaas.toUri())));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("data")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("kerberos.removeHostFromPrincipal", "true"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
        Configuration.setConfiguration(previousJaas);
    }

    private static String krb5(Path keytab, String principal) {
        return "    com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true doNotPrompt=true"
                + " keyTab=\"" + keytab + "\" principal=\"" + principal + "\";";
    }

    /** A client of the JAAS section {@code section}; returns once SaslAuthenticated (or AuthFailed). */
    private static ZooKeeper login(String section, String serverUser, BlockingQueue<Watcher.Event.KeeperState> states)
            throws Exception {
        return login(tandem.zookeeperPort(), section, serverUser, states);
    }

    private static ZooKeeper login(int port, String section, String serverUser,
                                   BlockingQueue<Watcher.Event.KeeperState> states) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, serverUser);
        // The service principal is zookeeper/localhost whatever this machine's resolver calls localhost.
        config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, "false");
        ZooKeeper zk = new ZooKeeper(TestKdc.HOST + ":" + port, 30_000,
                (WatchedEvent e) -> states.add(e.getState()), config);
        while (true) {
            Watcher.Event.KeeperState state = states.poll(20, TimeUnit.SECONDS);
            if (state == null) {
                zk.close();
                throw new AssertionError("no SASL outcome within 20 s, state " + zk.getState());
            }
            if (state == Watcher.Event.KeeperState.SaslAuthenticated || state == Watcher.Event.KeeperState.AuthFailed) {
                return zk;
            }
        }
    }

    @Test
    void shouldLetOnlyThePrincipalNamedInTheSaslAclAccessTheNode() throws Exception {
        // A mutable list: the client's validateACL asks it contains(null), which List.of refuses.
        List<ACL> aliceOnly = java.util.Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("sasl", TestKdc.principal("zkalice"))));
        try (ZooKeeper alice = login("ZkAlice", "zookeeper", new LinkedBlockingQueue<>());
             ZooKeeper bob = login("ZkBob", "zookeeper", new LinkedBlockingQueue<>())) {
            alice.create("/krb-alice", "mine".getBytes(StandardCharsets.UTF_8), aliceOnly, CreateMode.PERSISTENT);
            assertArrayEquals("mine".getBytes(StandardCharsets.UTF_8), alice.getData("/krb-alice", false, null));
            assertThrows(KeeperException.NoAuthException.class, () -> bob.getData("/krb-alice", false, null));
            // "auth" expands to the caller's sasl id: the realm stays, as Apache keeps it by default.
            bob.create("/krb-bob", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", TestKdc.principal("zkbob")))),
                    bob.getACL("/krb-bob", null));
        }
    }

    @Test
    void shouldRemoveTheHostFromAServicePrincipalWhenConfigured() throws Exception {
        try (ZooKeeper host = login("ZkHost", "zookeeper", new LinkedBlockingQueue<>())) {
            host.create("/krb-host", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "zkhost@" + TestKdc.REALM))),
                    host.getACL("/krb-host", null));
        }
    }

    @Test
    void shouldDeriveTheSameSaslIdsAsApachesServer() throws Exception {
        // Apache 3.9.5's server in this JVM with the same Server section, provider and removeHostFromPrincipal (as
        // system properties: Apache reads them there). ProviderRegistry is reset so it reads them again.
        System.setProperty("zookeeper.authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        System.setProperty("zookeeper.kerberos.removeHostFromPrincipal", "true");
        ProviderRegistry.reset();
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        try {
            factory.startup(apache);
            for (String section : List.of("ZkAlice", "ZkHost")) {
                assertEquals(createdAcl(factory.getLocalPort(), section), createdAcl(tandem.zookeeperPort(), section),
                        section);
            }
            BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
            try (ZooKeeper wrong = login(factory.getLocalPort(), "ZkAlice", "notzookeeper", states)) {
                assertThrows(KeeperException.class, () -> wrong.getData("/", false, null));
            }
        } finally {
            factory.shutdown();
            apache.shutdown();
            System.clearProperty("zookeeper.authProvider.sasl");
            System.clearProperty("zookeeper.kerberos.removeHostFromPrincipal");
            ProviderRegistry.reset();
        }
    }

    /** The ACL a node created with CREATOR_ALL_ACL gets for the client of {@code section}. */
    private static List<ACL> createdAcl(int port, String section) throws Exception {
        try (ZooKeeper zk = login(port, section, "zookeeper", new LinkedBlockingQueue<>())) {
            String path = "/side-" + section;
            zk.create(path, new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            List<ACL> acl = zk.getACL(path, null);
            zk.delete(path, -1);
            return acl;
        }
    }

    @Test
    void shouldFailAuthenticationWithATicketForAnotherService() throws Exception {
        // The KDC knows notzookeeper/localhost, so the client gets a ticket; the server has no key to read it.
        BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
        try (ZooKeeper wrong = login("ZkAlice", "notzookeeper", states)) {
            assertThrows(KeeperException.class, () -> wrong.getData("/", false, null));
            assertTrue(wrong.getState() == ZooKeeper.States.AUTH_FAILED || !wrong.getState().isAlive(),
                    "state " + wrong.getState());
        }
        try (ZooKeeper alice = login("ZkAlice", "zookeeper", new LinkedBlockingQueue<>())) {
            assertEquals(0, alice.exists("/", false).getVersion(), "other connections are served");
        }
    }
}
