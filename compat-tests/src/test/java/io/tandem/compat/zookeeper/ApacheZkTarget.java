package io.tandem.compat.zookeeper;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.zookeeper.server.ContainerManager;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * Apache ZooKeeper 3.9.5 standalone, run in-process from the test-scope jar: the reference every test must pass on.
 * The system properties it relies on (extended types, 4lw whitelist, super digest) are set by {@link ZkTargetExtension}
 * before any ZooKeeper class loads, because some of them are read into static finals.
 */
public final class ApacheZkTarget implements ZkTarget {
    private static final int MAX_CLIENT_CONNECTIONS = 200;
    private static final int CONTAINER_DELETES_PER_MINUTE_MAX = 10_000;

    private final Path dataDir;
    private int port;
    private ZooKeeperServer server;
    private ServerCnxnFactory connections;
    private ContainerManager containers;

    public ApacheZkTarget(Path dataDir) throws Exception {
        this.dataDir = dataDir;
        start(0);
    }

    private void start(int requestedPort) throws Exception {
        File dir = dataDir.toFile();
        server = new ZooKeeperServer(dir, dir, TICK_TIME_MS);
        connections = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", requestedPort), MAX_CLIENT_CONNECTIONS);
        connections.startup(server);
        port = connections.getLocalPort();
        // ZooKeeperServerMain starts the container manager itself; the bare ZooKeeperServer does not.
        containers = new ContainerManager(server.getZKDatabase(), firstProcessor(server), CONTAINER_CHECK_INTERVAL_MS,
                CONTAINER_DELETES_PER_MINUTE_MAX, 0);
        containers.start();
    }

    private static org.apache.zookeeper.server.RequestProcessor firstProcessor(ZooKeeperServer server) throws Exception {
        // The field is protected; ZooKeeperServerMain reaches it from the same package, we reach it reflectively.
        var field = ZooKeeperServer.class.getDeclaredField("firstProcessor");
        field.setAccessible(true);
        return (org.apache.zookeeper.server.RequestProcessor) field.get(server);
    }

    private void stop() {
        containers.stop();
        connections.shutdown();
        server.shutdown();
    }

    @Override
    public String name() {
        return "apache";
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public void restart() throws Exception {
        stop();
        start(port);
    }

    @Override
    public void close() throws IOException {
        stop();
    }
}
