/**
 * The {@code tandem} client commands (topics, produce, consume, groups, zk, cluster). They reach servers only over the
 * wire, through {@code io.tandem.kafka.client} and zk-wire's {@code ZkClient}, so they work against any Kafka broker
 * or ZooKeeper server; nothing here may use the node's own classes.
 */
package io.tandem.server.cli;
