package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.RenewingLogin;
import io.tandem.server.kerberos.TestKdc;
import io.tandem.zk.client.GssapiLogin;
import io.tandem.zk.client.SaslLogin;
import io.tandem.zk.client.WatchedEvent;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.security.auth.Subject;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tandem's own ZooKeeper client (the broker's) logging in with SASL GSSAPI against a real KDC, as Apache's 3.9 client
 * does: a ticket for {@code zookeeper.sasl.client.username/host}, on every connection before any other request, the
 * token computation (which asks the KDC) never on the client's event loop. Against Tandem's ZooKeeper port and
 * Apache 3.9.5's server in this JVM, the node a login creates with CREATOR_ALL carries the same {@code sasl} id. A
 * ticket for a service the KDC does not know is Apache's AUTH_FAILED.
 */
class ZkClientKerberosTest {
    /** The service the servers here run as (the KDC makes each principal once per JVM, so not ZooKeeper's default). */
    private static final String SERVICE = "zkclientsvc";
    private static final String CLIENT = "zkcarol";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Configuration previousJaas;
    static Supplier<Subject> login;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path serverKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        Path clientKeytab = kdc.keytab(TestKdc.principal(CLIENT));
        String serverSection = "Server {\n    " + TestKdc.krb5LoginModule(serverKeytab, TestKdc.servicePrincipal(SERVICE))
                + "\n};\n";
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), serverSection);
        // Apache's server in the side-by-side test reads the JVM-wide configuration's Server section.
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(serverJaas.toUri())));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("data")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl"));
        Subject client = RenewingLogin.start("test client", Map.of("useKeyTab", "true", "storeKey", "true",
                "doNotPrompt", "true", "keyTab", clientKeytab.toString(), "principal", TestKdc.principal(CLIENT)),
                RenewalPolicy.ZOOKEEPER);
        login = () -> client;
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
        Configuration.setConfiguration(previousJaas);
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    /** The service principal is SERVICE/localhost whatever this machine's resolver calls localhost. */
    private static GssapiLogin gssapi(Supplier<Subject> subject, String service) {
        return SaslLogin.gssapi(subject, service, false, null);
    }

    private static String connect(int port) {
        return TestKdc.HOST + ":" + port;
    }

    @Test
    void shouldLogInWithKerberosOffTheEventLoopBeforeItsFirstRequest() throws Exception {
        Set<String> tokenThreads = ConcurrentHashMap.newKeySet();
        Supplier<Subject> recording = () -> {
            tokenThreads.add(Thread.currentThread().getName());
            return login.get();
        };
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        try (ZkClient client = ZkClient.builder(connect(tandem.zookeeperPort())).sessionTimeout(Duration.ofSeconds(10))
                .sasl(gssapi(recording, SERVICE)).watcher((WatchedEvent e) -> states.add(e.state())).build()) {
            // Sent before the login completes: enforce.auth would close the connection if it went first.
            var created = client.create("/krb-carol", new byte[0], Acls.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals("/krb-carol", await(created));
            assertEquals(List.of(new ACL(Perms.ALL, new Id("sasl", TestKdc.principal(CLIENT))))
                    , await(client.getAcl("/krb-carol")).acl());
            assertEquals(KeeperState.SYNC_CONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(10, TimeUnit.SECONDS));
        }
        assertFalse(tokenThreads.isEmpty());
        assertTrue(tokenThreads.stream().allMatch(name -> name.startsWith("zk-client-sasl-")),
                "the KDC is asked on the token threads only: " + tokenThreads);
    }

    @Test
    void shouldLogInAgainOnTheSessionsNextConnection() throws Exception {
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        try (ZkClient client = ZkClient.builder(connect(tandem.zookeeperPort())).sessionTimeout(Duration.ofSeconds(10))
                .sasl(gssapi(login, SERVICE)).watcher((WatchedEvent e) -> states.add(e.state())).build()) {
            await(client.connected());
            assertEquals(KeeperState.SYNC_CONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(10, TimeUnit.SECONDS));
            // The session moves to a raw connection, so the server closes the client's: its next one must log in
            // again before enforce.auth lets a request through.
            stealConnection(client.sessionId(), client.sessionPassword());
            assertEquals(KeeperState.DISCONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SYNC_CONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(10, TimeUnit.SECONDS));
            assertTrue(await(client.exists("/", false)) != null, "served after the new login");
        }
    }

    /** Re-attaches the session on a raw connection and drops it, so the server closes the client's connection. */
    private static void stealConnection(long sessionId, byte[] password) throws Exception {
        io.netty.buffer.ByteBuf frame = io.netty.buffer.Unpooled.buffer();
        frame.writeInt(0);
        new io.tandem.zk.wire.proto.ConnectRequest(0, 0, 10_000, sessionId, password, false)
                .write(new io.tandem.zk.wire.JuteOutput(frame));
        frame.setInt(0, frame.readableBytes() - 4);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", tandem.zookeeperPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(io.netty.buffer.ByteBufUtil.getBytes(frame));
            new java.io.DataInputStream(socket.getInputStream()).readInt(); // answered: the session has moved here
        }
    }

    @Test
    void shouldNameTheServerAsApachesSaslServerPrincipal() throws Exception {
        InetSocketAddress named = new InetSocketAddress(TestKdc.HOST, 2181);
        assertEquals("zookeeper/localhost", SaslLogin.gssapi(login, "zookeeper", false, null).serverPrincipal(named));
        // Canonicalised: the address's canonical name, or the name as given when the lookup gives the address back.
        InetSocketAddress literal = new InetSocketAddress("127.0.0.1", 2181);
        String canonical = literal.getAddress().getCanonicalHostName();
        assertEquals("zookeeper/" + (canonical.equals("127.0.0.1") ? literal.getHostName() : canonical),
                SaslLogin.gssapi(login, "zookeeper", true, null).serverPrincipal(literal));
        // A name that does not resolve is used as it is, but cannot be canonicalised (Apache's words).
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("no-such-host.invalid", 2181);
        assertEquals("zookeeper/no-such-host.invalid", SaslLogin.gssapi(login, "zookeeper", false, null)
                .serverPrincipal(unresolved));
        javax.security.sasl.SaslException e = assertThrows(javax.security.sasl.SaslException.class,
                () -> SaslLogin.gssapi(login, "zookeeper", true, null).serverPrincipal(unresolved));
        assertTrue(e.getMessage().startsWith("Unable to canonicalize address"), e.getMessage());
    }

    @Test
    void shouldEndWithAuthFailedWhenTheKdcKnowsNoSuchService() throws Exception {
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZkClient client = ZkClient.builder(connect(tandem.zookeeperPort())).sessionTimeout(Duration.ofSeconds(10))
                .sasl(gssapi(login, "nosuchservice")).watcher((WatchedEvent e) -> states.add(e.state())).build();
        try {
            ExecutionException connect = assertThrows(ExecutionException.class, () -> await(client.connected()));
            assertEquals(KeeperCode.AUTH_FAILED, ((ZkException) connect.getCause()).code());
            ExecutionException later = assertThrows(ExecutionException.class, () -> await(client.exists("/", false)));
            assertEquals(KeeperCode.AUTH_FAILED, ((ZkException) later.getCause()).code());
        } finally {
            client.close();
        }
    }

    @Test
    void shouldGetTheSameSaslIdFromApachesServer() throws Exception {
        System.setProperty("zookeeper.authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        ProviderRegistry.reset();
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        try {
            factory.startup(apache);
            assertEquals(createdAcl(tandem.zookeeperPort()), createdAcl(factory.getLocalPort()));
        } finally {
            factory.shutdown();
            apache.shutdown();
            System.clearProperty("zookeeper.authProvider.sasl");
            ProviderRegistry.reset();
        }
    }

    /** The ACL a node created with CREATOR_ALL_ACL gets for this client on the server at {@code port}. */
    private static List<ACL> createdAcl(int port) throws Exception {
        try (ZkClient client = ZkClient.builder(connect(port)).sessionTimeout(Duration.ofSeconds(10))
                .sasl(gssapi(login, SERVICE)).build()) {
            await(client.connected());
            String path = "/side-by-side";
            await(client.create(path, new byte[0], Acls.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
            List<ACL> acl = await(client.getAcl(path)).acl();
            await(client.delete(path, -1));
            return acl;
        }
    }
}
