package org.apache.curator.test;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Properties;

/**
 * Stands in for curator-test's adapter of the same name, through which every TestingServer and TestingCluster of
 * Curator's own tests starts its ZooKeeper (with ZooKeeper 3.9 on the class path curator-test always picks it): with
 * this class first on the class path each of them is a Tandem node, started in-process from the same zoo.cfg
 * properties and with the settings curator-test's adapter adds (no AdminServer, every four-letter word). When a test
 * names Curator's ChaosMonkeyCnxnFactory as Apache's connection factory, a {@link ChaosMonkeyProxy} in front of the
 * node does on the wire what that factory does inside Apache's server.
 * Compiled by CuratorSuiteCompatTest into target/, never part of the test class path itself.
 */
public class ZooKeeperServerEmbeddedAdapter implements ZooKeeperMainFace {
    private volatile Tandem tandem;
    private volatile ChaosMonkeyProxy chaosMonkey;
    private volatile int clientPort;

    @Override
    public void start(QuorumPeerConfigBuilder builder) {
        try {
            Properties properties = builder.buildProperties();
            properties.setProperty("admin.enableServer", "false");
            properties.setProperty("4lw.commands.whitelist", "*");
            TandemConfig config = TandemConfig.defaults().roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                    .dataDir(Path.of(properties.getProperty("dataDir")));
            boolean chaos = ChaosMonkeyProxy.CHAOS_FACTORY.equals(System.getProperty("zookeeper.serverCnxnFactory"))
                    && properties.stringPropertyNames().stream().noneMatch(k -> k.startsWith("server."));
            if (chaos) {
                // The proxy takes the port the test asks for (0 at first, then the one it got, on a restart); the
                // node listens on a free one behind it.
                clientPort = Integer.parseInt(properties.getProperty("clientPort"));
                properties.setProperty("clientPort", "0");
            }
            for (String key : properties.stringPropertyNames()) {
                config.set(key, properties.getProperty(key));
            }
            tandem = Tandem.start(config);
            if (chaos) {
                chaosMonkey = new ChaosMonkeyProxy(clientPort, tandem.zookeeperPort());
                clientPort = chaosMonkey.port();
            } else {
                clientPort = tandem.zookeeperPort();
            }
        } catch (IOException e) {
            throw new IllegalStateException("Tandem did not start", e);
        } catch (Exception e) {
            throw new IllegalStateException("Tandem did not start: " + e.getMessage(), e);
        }
    }

    /** curator-test's kill stops the embedded server the same way as close: in-process there is no SIGKILL. */
    @Override
    public void kill() {
        stop();
    }

    @Override
    public int getClientPort() {
        return clientPort;
    }

    @Override
    public void close() {
        stop();
    }

    private void stop() {
        ChaosMonkeyProxy proxy = chaosMonkey;
        chaosMonkey = null;
        if (proxy != null) {
            try {
                proxy.close();
            } catch (IOException e) {
                throw new IllegalStateException("closing the chaos monkey proxy failed", e);
            }
        }
        Tandem running = tandem;
        tandem = null;
        if (running != null) {
            running.close();
        }
    }
}
