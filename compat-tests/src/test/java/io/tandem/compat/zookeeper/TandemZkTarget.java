package io.tandem.compat.zookeeper;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;

/** Tandem's ZooKeeper role started in-process through the embedding API, configured like {@link ApacheZkTarget}. */
final class TandemZkTarget implements ZkTarget {
    private final Path dataDir;
    private Tandem tandem;
    private int port;

    TandemZkTarget(Path dataDir) throws IOException {
        this.dataDir = dataDir;
        start(0);
    }

    private void start(int requestedPort) throws IOException {
        TandemConfig config = TandemConfig.forTests(dataDir)
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .zookeeperPort(requestedPort);
        for (Map.Entry<String, String> setting : ZkTargetExtension.serverSettings().entrySet()) {
            config.set(setting.getKey(), setting.getValue());
        }
        tandem = Tandem.start(config);
        port = tandem.zookeeperPort();
        if (port <= 0) {
            tandem.close();
            throw new IllegalStateException("Tandem started without a ZooKeeper listener (zookeeperPort() = " + port + ")");
        }
    }

    @Override
    public String name() {
        return "tandem";
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
        tandem.close();
        start(port);
    }

    @Override
    public void close() {
        tandem.close();
    }
}
