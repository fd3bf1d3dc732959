/**
 * The web console ({@code console.port}, {@code tandem start --console-port}): static HTML/CSS/JS from
 * {@code resources/console/} and a read-only JSON API under {@code /api/}, served by the node's own
 * {@link io.tandem.server.http.HttpEndpoint}. Owns: what the pages show and the API's bounds. It reads the node only
 * as any client would, through the Kafka protocol ({@code io.tandem.kafka.client}) and the ZooKeeper protocol
 * ({@code io.tandem.zk.client}, four-letter words), never from the server's memory; must not touch the broker or the
 * ZooKeeper server.
 */
package io.tandem.server.console;
