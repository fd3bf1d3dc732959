package io.tandem.zk.client;

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
}
