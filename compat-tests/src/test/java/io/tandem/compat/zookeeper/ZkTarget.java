package io.tandem.compat.zookeeper;

import java.io.IOException;

/**
 * A running ZooKeeper-protocol server that the compatibility tests talk to: Apache ZooKeeper 3.9.5 (the reference the
 * tests are validated against) or Tandem (the server under test). Chosen with {@code -Dcompat.target=apache|tandem}.
 */
public interface ZkTarget extends AutoCloseable {
    /** The digest credentials the target is configured to treat as the super user. */
    String SUPER_USER = "super";
    String SUPER_PASSWORD = "super-secret";
    /** The server's tick; session timeouts are negotiated into [2, 20] x this. */
    int TICK_TIME_MS = 2000;
    /** How often containers and TTL nodes are checked for deletion: short, so the tests need not wait a minute. */
    int CONTAINER_CHECK_INTERVAL_MS = 250;

    /** "apache" or "tandem". */
    String name();

    String host();

    int port();

    /** {@code host:port} for a client's connect string. */
    default String connectString() {
        return host() + ":" + port();
    }

    /** Stops the server and starts it again on the same port with the same data directory. */
    void restart() throws Exception;

    @Override
    void close() throws IOException;
}
