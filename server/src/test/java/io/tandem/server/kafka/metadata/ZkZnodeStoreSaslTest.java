package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.proto.ConnectRequest;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker's ZooKeeper client logs in with SASL DIGEST-MD5 as Apache's does (on every connection, before any other
 * request), a refused login ends it with AUTHFAILED, and the broker's JAAS and {@code zookeeper.set.acl} settings are
 * read as Kafka 3.9 reads them.
 */
class ZkZnodeStoreSaslTest {
    @TempDir
    static Path dir;
    static Tandem zookeeper;

    @BeforeAll
    static void start() throws Exception {
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), """
                Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka="kafka-secret"; };
                """);
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"));
    }

    @AfterAll
    static void stop() {
        if (zookeeper != null) zookeeper.close();
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    @Test
    void shouldLogInBeforeItsFirstRequestAndAgainAfterReconnecting() throws Exception {
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        try (ZkClient client = ZkClient.builder(zookeeper.zookeeperConnect()).sessionTimeout(Duration.ofSeconds(10))
                .sasl(SaslLogin.digest("kafka", "kafka-secret")).watcher((WatchedEvent e) -> states.add(e.state()))
                .build()) {
            // Sent before the login completes: it must wait for it, or "auth" would have no id to expand to.
            var created = client.create("/sasl-owned", new byte[0], Acls.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals("/sasl-owned", await(created));
            await(client.connected());
            assertEquals(List.of(new ACL(Perms.ALL, new Id("sasl", "kafka"))), await(client.getAcl("/sasl-owned")).acl());
            assertEquals(KeeperState.SYNC_CONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(10, TimeUnit.SECONDS));
            // A new connection of the same session logs in again: the server's ids belong to the connection.
            stealConnection(client.sessionId(), client.sessionPassword());
            assertEquals(KeeperState.DISCONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SYNC_CONNECTED, states.poll(10, TimeUnit.SECONDS));
            assertEquals(KeeperState.SASL_AUTHENTICATED, states.poll(10, TimeUnit.SECONDS));
            await(client.setData("/sasl-owned", new byte[] {1}, -1));
        }
        try (ZkClient anonymous = ZkClient.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), null)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> await(anonymous.setData("/sasl-owned", new byte[0], -1)));
            assertEquals(KeeperCode.NO_AUTH, ((ZkException) e.getCause()).code());
        }
    }

    /** Re-attaches the session on a raw connection and drops it, so the server closes the client's connection. */
    private static void stealConnection(long sessionId, byte[] password) throws Exception {
        ByteBuf frame = Unpooled.buffer();
        frame.writeInt(0);
        new ConnectRequest(0, 0, 10_000, sessionId, password, false).write(new JuteOutput(frame));
        frame.setInt(0, frame.readableBytes() - 4);
        try (Socket socket = new Socket("127.0.0.1", zookeeper.zookeeperPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(ByteBufUtil.getBytes(frame));
            new DataInputStream(socket.getInputStream()).readInt(); // answered: the session has moved here
        }
    }

    @Test
    void shouldEndTheClientWithAuthFailedOnAWrongPassword() throws Exception {
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZkClient client = ZkClient.builder(zookeeper.zookeeperConnect()).sessionTimeout(Duration.ofSeconds(10))
                .sasl(SaslLogin.digest("kafka", "guess")).watcher((WatchedEvent e) -> states.add(e.state())).build();
        try {
            var read = client.exists("/", false);
            ExecutionException connect = assertThrows(ExecutionException.class, () -> await(client.connected()));
            assertEquals(KeeperCode.AUTH_FAILED, ((ZkException) connect.getCause()).code());
            ExecutionException queued = assertThrows(ExecutionException.class, () -> await(read));
            assertEquals(KeeperCode.AUTH_FAILED, ((ZkException) queued.getCause()).code());
            ExecutionException later = assertThrows(ExecutionException.class, () -> await(client.exists("/", false)));
            assertEquals(KeeperCode.AUTH_FAILED, ((ZkException) later.getCause()).code());
            KeeperState state;
            do {
                state = states.poll(10, TimeUnit.SECONDS);
            } while (state != null && state != KeeperState.AUTH_FAILED);
            assertEquals(KeeperState.AUTH_FAILED, state);
        } finally {
            client.close();
        }
    }

    private static void withClientJaas(String jaas, ThrowingRunnable body) throws Exception {
        Path file = Files.writeString(Files.createTempFile(dir, "client", ".conf"), jaas);
        Configuration previous = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(file.toUri())));
        try {
            body.run();
        } finally {
            Configuration.setConfiguration(previous);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void shouldConnectWithTheJaasClientSectionAndCreateWithKafkasAcls() throws Exception {
        withClientJaas("Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"kafka\" "
                + "password=\"kafka-secret\"; };\n", () -> {
            try (ZkZnodeStore store = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                         Duration.ofSeconds(30), true);
                 ZkClient anonymous = ZkClient.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), null)) {
                store.create("/store-acl/config/users/bob", new byte[] {1}, false);
                assertEquals(List.of(new ACL(Perms.ALL, new Id("sasl", "kafka")), new ACL(Perms.READ,
                        Acls.ANYONE_ID_UNSAFE)), await(anonymous.getAcl("/store-acl")).acl());
                assertEquals(1, store.getData("/store-acl/config/users/bob")[0], "the broker reads its own nodes");
            }
        });
        withClientJaas("Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"kafka\" "
                + "password=\"wrong\"; };\n", () -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ZkZnodeStore.connect(
                    zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("refused the SASL login of 'kafka'"), e.getMessage());
        });
    }

    @Test
    void shouldRefuseSetAclWithoutALoginAsKafkaDoes() throws Exception {
        withClientJaas("Other { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"kafka\" "
                + "password=\"kafka-secret\"; };\n", () -> {
            SecurityException e = assertThrows(SecurityException.class, () -> ZkZnodeStore.connect(
                    zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30), true));
            assertTrue(e.getMessage().startsWith("zookeeper.set.acl is true, but ZooKeeper client TLS configuration"),
                    e.getMessage());
            // Without set.acl the same broker connects, unauthenticated, as Kafka's does.
            ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30)).close();
        });
    }

    @Test
    void shouldStopAtAKerberosClientSectionWhoseLoginFails() throws Exception {
        // GSSAPI is served (BrokerZooKeeperKerberosTest); a keytab that cannot log in stops the broker at start-up.
        withClientJaas("Client { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true "
                + "keyTab=\"/nowhere\" principal=\"kafka/host@REALM\"; };\n", () -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ZkZnodeStore.connect(
                    zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofMillis(200)));
            assertTrue(e.getMessage().startsWith("Exception while loading Zookeeper JAAS login context")
                    && e.getMessage().contains("the Kerberos login of the JAAS section 'Client' failed"), e.getMessage());
        });
    }

    @Test
    void shouldRefuseAClientSectionWithNeitherPasswordNorKerberos() throws Exception {
        withClientJaas("Client { com.example.PromptingLoginModule required user=\"kafka\"; };\n", () -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ZkZnodeStore.connect(
                    zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("logs in neither with a username and password"), e.getMessage());
        });
    }

    @Test
    void shouldRefuseAClientSectionWhenSaslIsSwitchedOffAsKafkaDoes() throws Exception {
        withClientJaas("Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"kafka\" "
                + "password=\"kafka-secret\"; };\n", () -> {
            System.setProperty("zookeeper.sasl.client", "false");
            try {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> ZkZnodeStore.connect(
                        zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofMillis(200)));
                assertTrue(e.getMessage().startsWith("Exception while determining if ZooKeeper is secure"),
                        e.getMessage());
                assertFalse(e.getMessage().contains("kafka-secret"), "no password in the message");
            } finally {
                System.clearProperty("zookeeper.sasl.client");
            }
        });
    }
}
