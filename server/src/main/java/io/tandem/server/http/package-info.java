/**
 * The node's HTTP listeners for operations ({@link io.tandem.server.http.HttpEndpoint}, on Netty): the Prometheus
 * endpoint ({@code metrics.port}), ZooKeeper's AdminServer ({@code admin.serverPort}), the web console and fault
 * injection. Owns: binding, closing every accepted connection, threads, HTTP framing and limits (per-route body
 * limits, {@link io.tandem.server.http.BodyLimit}), status lines, headers, and file answers streamed from a handler
 * thread; handlers see only {@link io.tandem.server.http.HttpRequest}. Must not touch: what is reported (io.tandem.server.metrics, the
 * ZooKeeper server's admin commands, the console's views, the fault controller).
 */
package io.tandem.server.http;
