/**
 * The node's metrics ({@link io.tandem.server.metrics.NodeMetrics}): a Micrometer registry per node with the JVM's,
 * the ZooKeeper server's and the Kafka broker's meters, served in Prometheus' text format on {@code metrics.port}.
 * Owns: meter names, what each measures, when figures are read. Must not touch: the servers' state (it only reads
 * through their public views and observes through {@code RequestObserver} / {@code ZkRequestObserver}).
 */
package io.tandem.server.metrics;
