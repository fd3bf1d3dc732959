package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.GetSASLRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL DIGEST-MD5 as Apache configures it (a JAAS Server section of DigestLoginModule users, authProvider.sasl), with
 * the official ZooKeeper 3.9 client logging in from its own JAAS sections: the sasl ACL scheme admits its user only,
 * a wrong password fails authentication, and garbage tokens close only their own connection.
 */
class ZooKeeperSaslTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static Configuration previousJaas;

    @BeforeAll
    static void start() throws Exception {
        Path serverJaas = dir.resolve("server-jaas.conf");
        Files.writeString(serverJaas, """
                Server {
                    org.apache.zookeeper.server.auth.DigestLoginModule required
                    user_alice="alice-secret"
                    user_bob="bob-secret";
                };
                """);
        Path clientJaas = dir.resolve("client-jaas.conf");
        Files.writeString(clientJaas, """
                Alice { org.apache.zookeeper.server.auth.DigestLoginModule required username="alice" password="alice-secret"; };
                Bob { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bob-secret"; };
                Mallory { org.apache.zookeeper.server.auth.DigestLoginModule required username="alice" password="guess"; };
                """);
        // The client reads the JVM-wide JAAS configuration; the server reads its own file (the config key).
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(clientJaas.toUri())));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("data")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
        Configuration.setConfiguration(previousJaas);
    }

    /** A client logging in with the JAAS section {@code section}; returns once SaslAuthenticated (or AuthFailed). */
    static ZooKeeper login(String section, BlockingQueue<Watcher.Event.KeeperState> states) throws Exception {
        return login(section, tandem.zookeeperConnect(), states);
    }

    static ZooKeeper login(String section, String connect, BlockingQueue<Watcher.Event.KeeperState> states)
            throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        // The 3.9 client's FIPS mode (on by default) forbids DIGEST-MD5; Apache's 3.9.5 server offers it either way.
        config.setProperty("zookeeper.fips-mode", "false");
        ZooKeeper zk = new ZooKeeper(connect, 30_000, (WatchedEvent e) -> states.add(e.getState()), config);
        while (true) {
            Watcher.Event.KeeperState state = states.poll(15, TimeUnit.SECONDS);
            if (state == null) {
                String status = zk.getSaslClient() == null ? "no SASL client"
                        : zk.getSaslClient().getConfigStatus() + " / " + zk.getSaslClient().getSaslState();
                zk.close();
                throw new AssertionError("no SASL outcome within 15 s: " + status + ", state " + zk.getState());
            }
            if (state == Watcher.Event.KeeperState.SaslAuthenticated || state == Watcher.Event.KeeperState.AuthFailed) {
                return zk;
            }
        }
    }

    @Test
    void shouldLetOnlyTheSaslUserNamedInTheAclAccessTheNode() throws Exception {
        List<ACL> aliceOnly = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "alice")));
        try (ZooKeeper alice = login("Alice", new LinkedBlockingQueue<>());
             ZooKeeper bob = login("Bob", new LinkedBlockingQueue<>())) {
            alice.create("/sasl-alice", "mine".getBytes(StandardCharsets.UTF_8), aliceOnly, CreateMode.PERSISTENT);
            assertArrayEquals("mine".getBytes(StandardCharsets.UTF_8), alice.getData("/sasl-alice", false, null));
            assertEquals(aliceOnly, alice.getACL("/sasl-alice", null));
            assertThrows(KeeperException.NoAuthException.class, () -> bob.getData("/sasl-alice", false, null));
            assertThrows(KeeperException.NoAuthException.class, () -> bob.setData("/sasl-alice", new byte[0], -1));
            // "auth" expands to the caller's sasl id, as Apache's fixupACL does for an authenticated provider.
            bob.create("/sasl-bob", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "bob"))), bob.getACL("/sasl-bob", null));
            assertThrows(KeeperException.NoAuthException.class, () -> alice.delete("/sasl-bob/none", -1));
        }
    }

    @Test
    void shouldFailAuthenticationOnAWrongPassword() throws Exception {
        BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
        try (ZooKeeper mallory = login("Mallory", states)) {
            assertThrows(KeeperException.class, () -> mallory.getData("/", false, null));
            assertTrue(mallory.getState() == ZooKeeper.States.AUTH_FAILED || !mallory.getState().isAlive(),
                    "state " + mallory.getState());
        }
    }

    @Test
    void shouldAnswerAGarbageSaslTokenWithAuthFailedAndCloseOnlyThatConnection() throws Exception {
        try (ZooKeeper alice = login("Alice", new LinkedBlockingQueue<>())) {
            Random random = new Random(102);
            for (int attempt = 0; attempt < 5; attempt++) {
                try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
                    assertNotNull(raw.connect(0, new byte[16], 30_000, 0, null));
                    // DIGEST-MD5 starts with an empty client token, answered by the server's challenge.
                    JuteInput challenge = raw.call(1, OpCode.SASL, new GetSASLRequest(new byte[0]));
                    assertEquals(KeeperCode.OK.code(), ReplyHeader.read(challenge).err());
                    byte[] garbage = new byte[attempt == 0 ? 0 : random.nextInt(2048)];
                    random.nextBytes(garbage);
                    if (attempt == 1) garbage = "username=\"alice\",response=zz".getBytes(StandardCharsets.US_ASCII);
                    JuteInput reply = raw.call(2, OpCode.SASL, new GetSASLRequest(garbage));
                    assertEquals(KeeperCode.AUTH_FAILED.code(), ReplyHeader.read(reply).err(), "attempt " + attempt);
                    assertTrue(raw.closedByServer(), "the failed connection is closed");
                }
            }
            assertEquals(0, alice.exists("/", false).getVersion(), "other connections are served");
        }
    }

    @Test
    void shouldRefuseAServerSectionWhoseLoginFailsOrIsNotImplementedAtStartUp() throws Exception {
        // A Kerberos section is served (ZooKeeperKerberosTest), but its login is made at start-up: no keytab, no start.
        Path jaas = dir.resolve("kerberos-jaas.conf");
        Files.writeString(jaas, """
                Server {
                    com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/nowhere" principal="zookeeper/host@REALM";
                };
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(
                TandemConfig.forTests(dir.resolve("kerberos")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                        .set("java.security.auth.login.config", jaas.toString())).close());
        assertTrue(e.getMessage().contains("Kerberos login of the JAAS Server section"), e.getMessage());
        Path other = dir.resolve("other-jaas.conf");
        Files.writeString(other, """
                Server {
                    com.example.OtherLoginModule required;
                };
                """);
        e = assertThrows(ConfigException.class, () -> Tandem.start(
                TandemConfig.forTests(dir.resolve("other")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                        .set("java.security.auth.login.config", other.toString())).close());
        assertTrue(e.getMessage().contains("com.example.OtherLoginModule") && e.getMessage().contains("Krb5LoginModule")
                && e.getMessage().contains("DigestLoginModule"), e.getMessage());
    }

    @Test
    void shouldRefuseToEnforceASchemeWhoseProviderIsNotRegistered() {
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(
                TandemConfig.forTests(dir.resolve("unregistered")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                        .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl")).close());
        assertTrue(e.getMessage().contains("Authentication scheme sasl is not available."), e.getMessage());
    }

    @Test
    void shouldCloseAnUnauthenticatedSessionWhenSaslIsEnforced() throws Exception {
        Path serverJaas = dir.resolve("server-jaas.conf");
        try (Tandem enforced = Tandem.start(TandemConfig.forTests(dir.resolve("enforced"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl"))) {
            try (RawZkClient raw = new RawZkClient(enforced.zookeeperPort())) {
                assertNotNull(raw.connect(0, new byte[16], 30_000, 0, null));
                JuteInput reply = raw.call(1, OpCode.EXISTS, new io.tandem.zk.wire.proto.ExistsRequest("/", false));
                assertEquals(KeeperCode.SESSION_CLOSED_REQUIRE_SASL_AUTH.code(), ReplyHeader.read(reply).err());
                assertTrue(raw.closedByServer());
            }
            BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
            try (ZooKeeper alice = login("Alice", "127.0.0.1:" + enforced.zookeeperPort(), states)) {
                assertNotNull(alice.exists("/", false), "an authenticated session is served");
            }
        }
    }
}
