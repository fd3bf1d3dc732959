/**
 * The node's HTTP listeners for operations ({@link io.tandem.server.http.HttpEndpoint}): the Prometheus endpoint
 * ({@code metrics.port}) and ZooKeeper's AdminServer ({@code admin.serverPort}). Owns: binding, threads, status lines.
 * Must not touch: what is reported (io.tandem.server.metrics, the ZooKeeper server's admin commands).
 */
package io.tandem.server.http;
