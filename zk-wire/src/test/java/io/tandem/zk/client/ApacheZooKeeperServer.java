package io.tandem.zk.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/** A real Apache ZooKeeper 3.9.5 standalone server in this JVM, on a loopback port, that can be stopped and restarted. */
final class ApacheZooKeeperServer implements AutoCloseable {

    /** Sessions may then last 2 x 200 ms to 20 x 200 ms = 4 s. */
    static final int TICK_TIME_MS = 200;

    private final Path dataDir;
    private int port;
    private ZooKeeperServer server;
    private ServerCnxnFactory factory;

    private ApacheZooKeeperServer(Path dataDir) {
        this.dataDir = dataDir;
    }

    static ApacheZooKeeperServer start(Path dataDir) throws IOException, InterruptedException {
        // TTL nodes are refused unless extended types are on, as on a real server with default settings.
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        ApacheZooKeeperServer instance = new ApacheZooKeeperServer(dataDir);
        instance.startOn(0);
        return instance;
    }

    private void startOn(int requestedPort) throws IOException, InterruptedException {
        server = new ZooKeeperServer(dataDir.resolve("snapshots").toFile(), dataDir.resolve("log").toFile(),
                TICK_TIME_MS);
        factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", requestedPort), 100);
        factory.startup(server);
        port = factory.getLocalPort();
    }

    int port() {
        return port;
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    ZooKeeperServer server() {
        return server;
    }

    void stop() {
        factory.shutdown();
        server.shutdown();
    }

    /** Restarts on the same port and data directory: sessions and nodes come back from the log and snapshot. */
    void restart() throws IOException, InterruptedException {
        stop();
        startOn(port);
    }

    @Override
    public void close() {
        stop();
    }
}
