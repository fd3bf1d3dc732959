package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
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
 * The secure client port as Apache configures it (secureClientPort, NettyServerCnxnFactory, ssl.keyStore.* and
 * ssl.trustStore.*, ssl.clientAuth, authProvider.x509), with the official client over Netty TLS and certificates
 * made at test time: the x509 ACL scheme admits the certificate's subject only, and a garbage handshake closes only
 * its own connection.
 */
class ZooKeeperTlsTest {
    static final String X509_PROVIDER = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    /** ssl.clientAuth=need, PKCS12 stores. */
    static Tandem need;
    /** ssl.clientAuth=want, a PEM key store and a PEM trust store. */
    static Tandem want;

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.create(dir);
        need = Tandem.start(secure(TandemConfig.forTests(dir.resolve("need")))
                .set("ssl.keyStore.location", certificates.serverKeyStore.toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", certificates.serverTrustStore.toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD)
                .set("ssl.keyStore.type", "PKCS12").set("ssl.trustStore.type", "PKCS12")
                .set("4lw.commands.whitelist", "conf"));
        Path keyPem = dir.resolve("server-key.pem");
        Files.writeString(keyPem, certificates.serverKeyPem() + certificates.serverCertificatePem());
        Path trustPem = dir.resolve("client-cert.pem");
        Files.writeString(trustPem, Files.readString(dir.resolve("client.pem")));
        want = Tandem.start(secure(TandemConfig.forTests(dir.resolve("want")))
                .set("ssl.keyStore.location", keyPem.toString())
                .set("ssl.trustStore.location", trustPem.toString())
                .set("ssl.clientAuth", "want"));
    }

    static TandemConfig secure(TandemConfig config) {
        return config.roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("authProvider.x509", X509_PROVIDER);
    }

    @AfterAll
    static void stop() {
        if (need != null) need.close();
        if (want != null) want.close();
    }

    static ZooKeeper connect(int port, boolean withCertificate) throws Exception {
        return connect(port, withCertificate, 20);
    }

    static ZooKeeper connect(int port, boolean withCertificate, int waitSeconds) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        if (withCertificate) {
            config.setProperty("zookeeper.ssl.keyStore.location", certificates.clientKeyStore.toString());
            config.setProperty("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
            config.setProperty("zookeeper.ssl.keyStore.type", "PKCS12");
        }
        config.setProperty("zookeeper.ssl.trustStore.location", certificates.trustStore.toString());
        config.setProperty("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.trustStore.type", "PKCS12");
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        }, config);
        if (!connected.await(waitSeconds, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("no TLS connection to port " + port);
        }
        return zk;
    }

    @Test
    void shouldAuthenticateTheClientCertificateAsAnX509IdOverPkcs12Stores() throws Exception {
        List<ACL> clientOnly = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("x509", "CN=client")));
        try (ZooKeeper zk = connect(need.zookeeperSecurePort(), true)) {
            zk.create("/tls-need", "x".getBytes(StandardCharsets.UTF_8), clientOnly, CreateMode.PERSISTENT);
            assertArrayEquals("x".getBytes(StandardCharsets.UTF_8), zk.getData("/tls-need", false, null));
            // "auth" expands to the x509 id, an authenticated provider's.
            zk.create("/tls-auth", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            assertEquals(clientOnly, zk.getACL("/tls-auth", null));
        }
        // The plain port serves the same tree, but its clients hold no x509 id.
        try (ZooKeeper plain = ZkTestSupport.connect(need.zookeeperConnect())) {
            assertThrows(KeeperException.NoAuthException.class, () -> plain.getData("/tls-need", false, null));
        }
    }

    @Test
    void shouldServeAClientWithoutACertificateWhenWantedButDenyItTheX509Acl() throws Exception {
        List<ACL> clientOnly = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("x509", "CN=client")));
        try (ZooKeeper withCertificate = connect(want.zookeeperSecurePort(), true);
             ZooKeeper without = connect(want.zookeeperSecurePort(), false)) {
            withCertificate.create("/tls-want", new byte[0], clientOnly, CreateMode.PERSISTENT);
            assertEquals(0, without.exists("/", false).getVersion(), "served over TLS without a certificate");
            assertThrows(KeeperException.NoAuthException.class, () -> without.getData("/tls-want", false, null));
            assertThrows(KeeperException.NoAuthException.class, () -> without.setData("/tls-want", new byte[0], -1));
        }
    }

    @Test
    void shouldCloseOnlyTheConnectionWithAGarbageHandshake() throws Exception {
        try (ZooKeeper zk = connect(need.zookeeperSecurePort(), true)) {
            Random random = new Random(11);
            for (int attempt = 0; attempt < 5; attempt++) {
                byte[] garbage = new byte[64 + random.nextInt(4096)];
                random.nextBytes(garbage);
                if (attempt == 0) garbage[0] = 0x16; // looks like a TLS handshake record, then is not one
                assertTrue(closedAfter(need.zookeeperSecurePort(), garbage), "attempt " + attempt);
            }
            // A plain ZooKeeper ConnectRequest on the secure port is garbage to TLS too.
            assertTrue(closedAfter(need.zookeeperSecurePort(), new byte[] {0, 0, 0, 44, 0, 0, 0, 0}));
            assertEquals(0, zk.exists("/", false).getVersion(), "the TLS client is still served");
        }
    }

    @Test
    void shouldCloseAClientCertificateWhenNoX509ProviderIsRegistered() throws Exception {
        // As Apache's Netty factory: "X509 Auth provider not found", and the connection is closed.
        try (Tandem noProvider = Tandem.start(TandemConfig.forTests(dir.resolve("no-x509"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("ssl.keyStore.location", certificates.serverKeyStore.toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", certificates.serverTrustStore.toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD))) {
            AssertionError e = assertThrows(AssertionError.class, () -> connect(noProvider.zookeeperSecurePort(), true, 5));
            assertTrue(e.getMessage().contains("no TLS connection"), e.getMessage());
        }
    }

    @Test
    void shouldReportTheSecurePortInConf() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", need.zookeeperPort())) {
            socket.getOutputStream().write("conf".getBytes(StandardCharsets.US_ASCII));
            String conf = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(conf.contains("secureClientPort=" + need.zookeeperSecurePort() + "\n"), conf);
        }
    }

    @Test
    void shouldRefuseASecurePortWithoutTheNettyFactory() {
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(TandemConfig.forTests(
                dir.resolve("nio")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("secureClientPort", "0")
                .set("ssl.keyStore.location", certificates.serverKeyStore.toString())).close());
        assertTrue(e.getMessage().contains("NettyServerCnxnFactory"), e.getMessage());
    }

    /** Sends {@code bytes} and reports whether the server closes the socket within 10 s. */
    private static boolean closedAfter(int port, byte[] bytes) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1024];
            while (in.read(buffer) != -1) {
                // a TLS alert may come first
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true; // reset by the server
        }
    }
}
