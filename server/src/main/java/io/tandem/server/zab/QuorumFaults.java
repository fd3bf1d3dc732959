package io.tandem.server.zab;

import java.util.concurrent.CompletableFuture;

/**
 * Fault injection's one seam in the quorum transport (set by {@code io.tandem.server.fault.FaultController}): which
 * peer links are cut, as by a network partition. While a link is cut {@link QuorumTransport} sends nothing to the
 * peer, drops what arrives from it and dials it no more, but keeps the connection open, as a partition leaves a TCP
 * connection silent rather than closed: Zab notices the silence by its own timeouts (syncLimit), as Apache's members
 * do. When the link heals the connection is closed, as a partition's stale connections end, and redialled.
 */
@FunctionalInterface
public interface QuorumFaults {
    /** No link is ever cut. */
    QuorumFaults NONE = peer -> null;

    /** Null while the link with member {@code peer} is whole; else a future that completes when it heals. */
    CompletableFuture<Void> cut(int peer);
}
