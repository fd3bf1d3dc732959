/**
 * Fault injection (franz-go kfake's ControlKey, for Kafka and ZooKeeper): {@link io.tandem.server.fault.FaultController}
 * holds the rules and answers the two listeners' hooks ({@code kafka.network.RequestFaults},
 * {@code zookeeper.ZkFaults}) and the quorum transport's ({@code zab.QuorumFaults}: cut links between ensemble
 * members); {@link io.tandem.server.fault.FaultHttp} serves it over HTTP for {@code tandem fault}.
 * Owns: matching, delays, error answers ({@code KafkaErrorResponses}). Must not touch: the listeners' own code beyond
 * the hook each calls, the handlers, the logs.
 */
package io.tandem.server.fault;
