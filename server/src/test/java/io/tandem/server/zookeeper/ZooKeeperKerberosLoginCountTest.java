package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.ensemble.FaultyProxy;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kerberos.TestKdc;
import io.tandem.server.tls.TestCertificates;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many times the ZooKeeper side asks the KDC for a ticket-granting ticket (AS exchanges, counted at the test KDC's
 * relay), side by side with Apache 3.9.5 in this JVM:
 * <ul>
 * <li>A server logs in once per client port (Apache: one Login per connection factory, the secure port being a
 * factory of its own), never per session: many Kerberos sessions cost the server nothing more.</li>
 * <li>A ZooKeeper client, the broker's, logs in once per session handle (Apache: a ZooKeeper object keeps one Login
 * for all its connections, and Kafka's broker opens a new object for a new session), so reconnections of a session
 * cost nothing and a new session after an expiry one more AS exchange.</li>
 * </ul>
 */
class ZooKeeperKerberosLoginCountTest {
    private static final String TANDEM_SERVICE = "zkcount";
    private static final String APACHE_SERVICE = "zkcountapache";
    private static final String CLIENT = TestKdc.principal("zkcountclient");
    private static final int SESSIONS = 4;
    private static final int RECONNECTIONS = 3;

    @TempDir
    static Path dir;
    static TestKdc kdc;
    static Tandem tandem;
    static Configuration previousJaas;

    @BeforeAll
    static void start() throws Exception {
        kdc = TestKdc.shared();
        String tandemServer = TestKdc.servicePrincipal(TANDEM_SERVICE);
        String apacheServer = TestKdc.servicePrincipal(APACHE_SERVICE);
        Path keytab = kdc.keytab(tandemServer, apacheServer, CLIENT);
        Path tandemJaas = Files.writeString(dir.resolve("tandem-jaas.conf"), "Server {\n    "
                + TestKdc.krb5LoginModule(keytab, tandemServer) + "\n};\n");
        // The JVM-wide configuration: Apache's in-JVM server reads its Server section, and every ZooKeeper client
        // here (Apache's and the broker's) the Client section.
        Path jvmJaas = Files.writeString(dir.resolve("jvm-jaas.conf"), "Server {\n    "
                + TestKdc.krb5LoginModule(keytab, apacheServer) + "\n};\nClient {\n    "
                + TestKdc.krb5LoginModule(keytab, CLIENT) + "\n};\n");
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(jvmJaas.toUri())));
        // Tickets for <service>/localhost whatever this machine's resolver says (both clients read these).
        System.setProperty("zookeeper.sasl.client.canonicalize.hostname", "false");
        TestCertificates certificates = TestCertificates.create(dir);
        int before = kdc.logins(tandemServer);
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", tandemJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("ssl.keyStore.location", certificates.serverKeyStore.toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", certificates.serverTrustStore.toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD)
                .set("ssl.keyStore.type", "PKCS12").set("ssl.trustStore.type", "PKCS12"));
        tandemStartLogins = kdc.logins(tandemServer) - before;
    }

    /** The AS exchanges of Tandem's server principal during its start-up. */
    static int tandemStartLogins;

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
        Configuration.setConfiguration(previousJaas);
        System.clearProperty("zookeeper.sasl.client.canonicalize.hostname");
        System.clearProperty("zookeeper.sasl.client.username");
    }

    @Test
    void shouldLogInOncePerClientPortAndNeverPerSessionAsApachesServer() throws Exception {
        String apacheServer = TestKdc.servicePrincipal(APACHE_SERVICE);
        System.setProperty("zookeeper.authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        ProviderRegistry.reset();
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        int before = kdc.logins(apacheServer);
        // Apache's main makes one factory for clientPort and another for secureClientPort; each configures its login.
        ServerCnxnFactory plain = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        ServerCnxnFactory second = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        try {
            int apacheStartLogins = kdc.logins(apacheServer) - before;
            plain.startup(apache);
            second.start();
            assertEquals(apacheStartLogins, tandemStartLogins, "logins of a server with a plain and a secure port");
            assertEquals(2, tandemStartLogins);

            String tandemServer = TestKdc.servicePrincipal(TANDEM_SERVICE);
            int tandemBefore = kdc.logins(tandemServer);
            int apacheBefore = kdc.logins(apacheServer);
            authenticatedSessions(tandem.zookeeperPort(), TANDEM_SERVICE);
            authenticatedSessions(plain.getLocalPort(), APACHE_SERVICE);
            assertEquals(0, kdc.logins(tandemServer) - tandemBefore, SESSIONS + " sessions cost Tandem's server no login");
            assertEquals(0, kdc.logins(apacheServer) - apacheBefore, "nor Apache's");
        } finally {
            plain.shutdown();
            second.shutdown();
            apache.shutdown();
            System.clearProperty("zookeeper.authProvider.sasl");
            ProviderRegistry.reset();
        }
    }

    /** Opens {@link #SESSIONS} sessions of the Client section at once, each authenticated, then closes them. */
    private static void authenticatedSessions(int port, String service) throws Exception {
        List<ZooKeeper> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < SESSIONS; i++) {
                BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
                ZKClientConfig config = new ZKClientConfig();
                config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, service);
                sessions.add(new ZooKeeper(TestKdc.HOST + ":" + port, 30_000, e -> states.add(e.getState()), config));
                awaitState(states, KeeperState.SaslAuthenticated);
            }
        } finally {
            for (ZooKeeper session : sessions) session.close();
        }
    }

    @Test
    void shouldLogInOncePerSessionOfTheBrokerAndNotPerConnectionAsApachesClient() throws Exception {
        System.setProperty("zookeeper.sasl.client.username", TANDEM_SERVICE);
        int apacheLogins;
        try (FaultyProxy proxy = new FaultyProxy(tandem.zookeeperPort())) {
            int before = kdc.logins(CLIENT);
            BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
            ZooKeeper apache = new ZooKeeper(TestKdc.HOST + ":" + proxy.port(), 30_000,
                    e -> states.add(e.getState()), new ZKClientConfig());
            try {
                awaitState(states, KeeperState.SaslAuthenticated);
                apache.create("/counted", "v".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
                for (int i = 0; i < RECONNECTIONS; i++) {
                    proxy.cut();
                    proxy.heal();
                    awaitState(states, KeeperState.SaslAuthenticated);
                }
                assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), apache.getData("/counted", false, null));
                assertEquals(1, kdc.logins(CLIENT) - before, "Apache's client: one login for all the connections "
                        + "of a ZooKeeper handle (its SendThread's loginRef)");
            } finally {
                apache.close();
            }
            // Kafka's ZooKeeperClient opens a new ZooKeeper handle for a new session (reinitialize, after an
            // expiry): its first connection logs in again.
            states.clear();
            ZooKeeper newSession = new ZooKeeper(TestKdc.HOST + ":" + proxy.port(), 30_000,
                    e -> states.add(e.getState()), new ZKClientConfig());
            try {
                awaitState(states, KeeperState.SaslAuthenticated);
            } finally {
                newSession.close();
            }
            apacheLogins = kdc.logins(CLIENT) - before;
        }
        assertEquals(2, apacheLogins, "Apache's client: one login per session handle");

        try (FaultyProxy proxy = new FaultyProxy(tandem.zookeeperPort())) {
            int before = kdc.logins(CLIENT);
            // The shortest session the server grants (2 ticks), so that it expires while the proxy is cut.
            ZkZnodeStore broker = ZkZnodeStore.connect(TestKdc.HOST + ":" + proxy.port(), Duration.ofSeconds(4),
                    Duration.ofSeconds(30));
            try {
                assertEquals(1, kdc.logins(CLIENT) - before, "the first session's login");
                for (int i = 0; i < RECONNECTIONS; i++) {
                    proxy.cut();
                    proxy.heal();
                    assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), readAgain(broker, "/counted"));
                }
                assertEquals(1, kdc.logins(CLIENT) - before, "reconnections of the session log in no more");
                // Cut for longer than the session: the server expires it, and the store opens a new session.
                // The session's ephemeral node tells when the server has expired it (a fixed wait cost 8 s and
                // could still be too short on a loaded machine).
                broker.create("/expiry-witness", new byte[0], true);
                proxy.cut();
                awaitGone("/expiry-witness");
                proxy.heal();
                awaitCount(() -> kdc.logins(CLIENT) - before, 2);
                assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), readAgain(broker, "/counted"));
            } finally {
                broker.close();
            }
            assertEquals(apacheLogins, kdc.logins(CLIENT) - before, "the broker's client logs in as Apache's");
        }
    }

    /** The node's data once the session's connection is back (a read during the reconnection fails). */
    private static byte[] readAgain(ZkZnodeStore store, String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return store.getData(path);
            } catch (Exception e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(100);
            }
        }
    }

    /**
     * Waits until {@code path} no longer exists, read by a session without SASL straight to the server, so that the
     * watching costs the Client principal no login.
     */
    private static void awaitGone(String path) throws Exception {
        ZKClientConfig noSasl = new ZKClientConfig();
        noSasl.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper observer = new ZooKeeper("127.0.0.1:" + tandem.zookeeperPort(), 30_000,
                e -> states.add(e.getState()), noSasl);
        try {
            awaitState(states, KeeperState.SyncConnected);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (observer.exists(path, false) != null) {
                assertTrue(System.nanoTime() < deadline, "the server did not expire the cut-off session in 30 s");
                Thread.sleep(100);
            }
        } finally {
            observer.close();
        }
    }

    private static void awaitCount(IntSupplier count, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count.getAsInt() < expected) {
            assertTrue(System.nanoTime() < deadline, "no new login within 30 s: " + count.getAsInt());
            Thread.sleep(50);
        }
    }

    private static void awaitState(BlockingQueue<KeeperState> states, KeeperState wanted) throws Exception {
        while (true) {
            KeeperState state = states.poll(30, TimeUnit.SECONDS);
            if (state == null) throw new AssertionError("no " + wanted + " within 30 s");
            if (state == KeeperState.AuthFailed) throw new AssertionError("SASL failed while waiting for " + wanted);
            if (state == wanted) return;
        }
    }
}
