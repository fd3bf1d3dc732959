/**
 * The {@code tandem} client commands (topics, produce, consume, groups, zk, cluster). They reach servers only over the
 * wire, through {@code io.tandem.kafka.client} and zk-wire's {@code ZkClient}, so they work against any Kafka broker
 * or ZooKeeper server; nothing here may use the node's own classes. The one exception is {@code zk import} /
 * {@code zk export} ({@link io.tandem.server.cli.ZkDataDirCommands}), which convert data directories offline and so
 * need the server's on-disk formats ({@code io.tandem.server.zookeeper.ApacheDataDir}).
 */
package io.tandem.server.cli;
