package io.tandem.server.zookeeper;

import io.tandem.server.tls.TestCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;

/**
 * Apache ZooKeeper 3.9.5's secure client port in this JVM, for tests that set it beside Tandem's: a standalone
 * ZooKeeperServer behind NettyServerCnxnFactory on 127.0.0.1, port chosen by the system, the x509 provider
 * registered, the key and trust stores copied into a directory of the test's own so the test can rewrite them.
 *
 * <p>Apache's QuorumPeerConfig turns zoo.cfg's keys into {@code zookeeper.<key>} system properties, and its X509Util
 * reads them from there (again on every reload), so this fixture sets them for as long as the port is open and
 * clears them on close: other tests' Apache clients and servers, and Tandem's ZkSecurity, would read them as their own
 * defaults. The properties are process-wide, so at most one of these is open at a time, and a Tandem server meant
 * to run beside it is started before it (ZkSecurity reads {@code zookeeper.<key>} as a fallback at start-up).
 */
final class ApacheSecurePort implements AutoCloseable {
    final Path keyStore;
    final Path trustStore;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    /**
     * Starts the port in {@code live} with copies of {@code keyStore} and {@code trustStore} (password
     * {@link TestCertificates#PASSWORD}) and {@code zooCfg}'s keys (as zoo.cfg spells them, without the
     * {@code zookeeper.} prefix) beside the ones every secure port needs.
     */
    ApacheSecurePort(Path live, Path keyStore, Path trustStore, Map<String, String> zooCfg) throws Exception {
        Files.createDirectories(live);
        this.keyStore = Files.copy(keyStore, live.resolve("keystore.p12"));
        this.trustStore = Files.copy(trustStore, live.resolve("truststore.p12"));
        properties.put("zookeeper.serverCnxnFactory", ZkSecurity.NETTY_FACTORY);
        properties.put("zookeeper.authProvider.x509", ZkSecurity.X509_PROVIDER);
        properties.put("zookeeper.ssl.keyStore.location", this.keyStore.toString());
        properties.put("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        properties.put("zookeeper.ssl.trustStore.location", this.trustStore.toString());
        properties.put("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        zooCfg.forEach((key, value) -> properties.put("zookeeper." + key, value));
        properties.forEach(System::setProperty);
        ProviderRegistry.reset();
        ZooKeeperServer started = null;
        ServerCnxnFactory secure = null;
        try {
            started = new ZooKeeperServer(live.resolve("snapshots").toFile(), live.resolve("log").toFile(), 2000);
            secure = ServerCnxnFactory.createFactory();
            secure.configure(new InetSocketAddress("127.0.0.1", 0), 100, -1, true);
            secure.startup(started);
        } catch (Exception | Error e) {
            if (secure != null) secure.shutdown();
            if (started != null) started.shutdown();
            clearProperties();
            throw e;
        }
        server = started;
        factory = secure;
    }

    int port() {
        return factory.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        try {
            factory.shutdown();
            server.shutdown();
        } finally {
            clearProperties();
        }
    }

    private void clearProperties() {
        properties.keySet().forEach(System::clearProperty);
        ProviderRegistry.reset();
    }
}
