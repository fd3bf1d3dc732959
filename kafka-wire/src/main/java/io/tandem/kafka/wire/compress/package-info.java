/**
 * Kafka's compression codecs (gzip, snappy, lz4, zstd) as streams, byte-compatible with Kafka clients: xerial's
 * framed snappy stream (and raw snappy on read), Kafka's LZ4 frame (including the broken header checksum of message
 * format v0), zstd and gzip. Owns codec framing only; knows nothing of batches, which the record package builds on it.
 */
package io.tandem.kafka.wire.compress;
