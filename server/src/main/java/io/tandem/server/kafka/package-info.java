/**
 * The Kafka broker: listener and one handler per API key ({@code network}, {@code handlers}), partitions over
 * storage's log ({@code log}), idempotent-producer state ({@code producer}), the delayed-operation purgatory
 * ({@code purgatory}), the classic group coordinator with offsets in {@code __consumer_offsets} ({@code group}) and
 * the metadata in Kafka 3.9's ZooKeeper layout ({@code metadata}). It must not encode Kafka bytes by hand
 * (kafka-wire does), touch log files directly (storage does) or reach into the ZooKeeper server (it is a client of
 * it). See the "Kafka broker" section of server/README.md for the data flow and what is not done yet.
 */
package io.tandem.server.kafka;
