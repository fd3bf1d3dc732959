package io.tandem.zk.client;

import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;

/**
 * TLS for a client's connections (Apache's {@code zookeeper.client.secure} with the Netty socket): a new client-mode
 * engine for each connection, made for the host and port of the connect string it dials, so that hostname
 * verification (an endpoint identification algorithm set on the engine) checks the name the user wrote, as Apache's
 * ClientCnxnSocketNetty does.
 */
@FunctionalInterface
public interface ClientTls {
    SSLEngine newEngine(String host, int port);

    /**
     * Where the engine's delegated tasks run, the certificate checks among them; null: on the connection's event
     * loop. A check that looks names up (ZooKeeper's reverse DNS fallback) must not block the event loop.
     */
    default Executor delegatedTasks() {
        return null;
    }
}
