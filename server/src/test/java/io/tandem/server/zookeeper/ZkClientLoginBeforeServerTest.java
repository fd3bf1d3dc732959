package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.SessionLogins;
import io.tandem.server.kerberos.TestKdc;
import io.tandem.zk.client.SaslLogin;
import io.tandem.zk.client.WatchedEvent;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.KeeperState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: a new ZooKeeper handle whose first connection fails before SASL (no server listens yet on the port it was
 * given, reserved up front) logs in and authenticates on its next connection, once the server is up, as Apache
 * 3.9.5's client does: Tandem's own client (the broker's and the CLI's, its Kerberos login made per session handle by
 * {@link SessionLogins}) and Apache's ZooKeeper client, each against a Tandem server started after it. Both log in at
 * the KDC once for the handle, while the server is still down (Apache's ClientCnxn makes the handle's Login as its
 * first connection starts, before the socket connects), both reuse that login on the connection that succeeds, both
 * report SASL authentication, and a node each creates with CREATOR_ALL carries its own {@code sasl} id.
 */
class ZkClientLoginBeforeServerTest {
    private static final String SERVICE = "zklatesvc";
    private static final String TANDEM_CLIENT = "zklatetandem";
    private static final String APACHE_CLIENT = "zklateapache";
    private static final long TIMEOUT_S = 30;

    @TempDir
    static Path dir;
    static TestKdc kdc;
    static Path serverJaas;
    static Path tandemKeytab;
    static Configuration previousJaas;

    @BeforeAll
    static void jaas() throws Exception {
        kdc = TestKdc.shared();
        Path serverKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        tandemKeytab = kdc.keytab(TestKdc.principal(TANDEM_CLIENT));
        Path apacheKeytab = kdc.keytab(TestKdc.principal(APACHE_CLIENT));
        serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), "Server {\n    "
                + TestKdc.krb5LoginModule(serverKeytab, TestKdc.servicePrincipal(SERVICE)) + "\n};\n");
        // Apache's client reads its section from the JVM-wide JAAS configuration.
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), "LateClient {\n    "
                + TestKdc.krb5LoginModule(apacheKeytab, TestKdc.principal(APACHE_CLIENT)) + "\n};\n");
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(clientJaas.toUri())));
    }

    @AfterAll
    static void restoreJaas() {
        Configuration.setConfiguration(previousJaas);
    }

    /** A Tandem ZooKeeper server on {@code port} that admits Kerberos-authenticated connections only. */
    private static Tandem startServer(String name, int port) throws java.io.IOException {
        return Tandem.start(TandemConfig.forTests(dir.resolve(name)).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .zookeeperPort(port)
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl"));
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    @Test
    void tandemsClientLogsInAndAuthenticatesOnceTheServerIsUp() throws Exception {
        String principal = TestKdc.principal(TANDEM_CLIENT);
        int port = TestPorts.freePort();
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        // The broker's login (ZkClientLogin): logged in at start-up, and again for every new session handle.
        SessionLogins logins = new SessionLogins("the test's Client section", Map.of("useKeyTab", "true",
                "storeKey", "true", "doNotPrompt", "true", "keyTab", tandemKeytab.toString(), "principal", principal),
                RenewalPolicy.ZOOKEEPER);
        try {
            int before = kdc.logins(principal);
            logins.newSession();
            try (ZkClient client = ZkClient.builder(TestKdc.HOST + ":" + port).sessionTimeout(Duration.ofSeconds(10))
                    .sasl(SaslLogin.gssapi(logins, SERVICE, false, null))
                    .watcher((WatchedEvent e) -> states.add(e.state())).build()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (client.lastConnectFailure() == null && System.nanoTime() < deadline) Thread.sleep(20);
                assertNotNull(client.lastConnectFailure(), "the first connection fails: nothing listens yet");
                assertEquals(before + 1, kdc.logins(principal), "the new handle logged in, though nothing connected");
                try (Tandem server = startServer("tandem-server", port)) {
                    await(client.connected());
                    assertEquals(KeeperState.SYNC_CONNECTED, states.poll(TIMEOUT_S, TimeUnit.SECONDS));
                    assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(TIMEOUT_S, TimeUnit.SECONDS));
                    await(client.create("/late", new byte[0], Acls.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
                    io.tandem.zk.wire.data.Id id = await(client.getAcl("/late")).acl().get(0).id();
                    assertEquals("sasl:" + principal, idOf(id.scheme(), id.id()));
                    assertEquals(before + 1, kdc.logins(principal), "the connection that succeeded used that login");
                }
            }
        } finally {
            logins.close();
        }
    }

    @Test
    void apachesClientLogsInAndAuthenticatesOnceTheServerIsUp() throws Exception {
        String principal = TestKdc.principal(APACHE_CLIENT);
        int port = TestPorts.freePort();
        BlockingQueue<org.apache.zookeeper.Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, "LateClient");
        config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, SERVICE);
        config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, "false");
        int before = kdc.logins(principal);
        ZooKeeper zk = new ZooKeeper(TestKdc.HOST + ":" + port, 10_000, event -> states.add(event.getState()),
                config);
        try {
            // Nothing listens: the handle's first connection fails (Apache retries after up to a second's pause).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (kdc.logins(principal) == before && System.nanoTime() < deadline) Thread.sleep(20);
            Thread.sleep(1500);
            assertEquals(ZooKeeper.States.CONNECTING, zk.getState());
            assertEquals(before + 1, kdc.logins(principal), "the new handle logged in, though nothing connected");
            try (Tandem server = startServer("apache-client-server", port)) {
                assertEquals(org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected,
                        states.poll(TIMEOUT_S, TimeUnit.SECONDS));
                assertEquals(org.apache.zookeeper.Watcher.Event.KeeperState.SaslAuthenticated,
                        states.poll(TIMEOUT_S, TimeUnit.SECONDS));
                zk.create("/late", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL,
                        org.apache.zookeeper.CreateMode.PERSISTENT);
                org.apache.zookeeper.data.Id id = zk.getACL("/late", null).get(0).getId();
                assertEquals("sasl:" + principal, idOf(id.getScheme(), id.getId()));
                assertEquals(before + 1, kdc.logins(principal), "the connection that succeeded used that login");
            }
        } finally {
            zk.close();
        }
    }

    private static String idOf(String scheme, String id) {
        return scheme + ":" + id;
    }
}
