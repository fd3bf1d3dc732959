/**
 * Apache ZooKeeper 3.9's on-disk files: snapshot framing ({@code FileSnap}: header, Adler32 seals, optional digest
 * and last-zxid sections) and transaction logs ({@code FileTxnLog}), so Tandem can take over an Apache data directory
 * and write one back. The jute body of a snapshot (sessions, ACL cache, nodes) and the transactions themselves are
 * the ZooKeeper server's to interpret; this package only frames, checksums and lists files.
 */
package io.tandem.storage.zk.apache;
