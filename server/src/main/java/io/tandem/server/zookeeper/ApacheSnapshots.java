package io.tandem.server.zookeeper;

import io.tandem.server.zab.DurableState;
import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.LogEntry;
import io.tandem.server.zab.apache.ApacheFollower;
import io.tandem.server.zab.apache.LearnerWire;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The snapshots of a member speaking Apache's quorum protocol ({@link ApacheEnsembleCommit}), as Apache's
 * SyncRequestProcessor takes them: after a random number of applied commits between snapCount / 2 and snapCount (so
 * members do not all snapshot at once), the tree is written on the snapshot thread ({@link BackgroundSnapshots},
 * fuzzy) into the follower's snapshot store, and the log files and snapshots it makes redundant are purged as the
 * Tandem-protocol member does. The store then holds two bodies: the leader's SNAP (Apache's database body) and this
 * member's own ({@link #OWN_SNAPSHOT_MARK}, then {@link SnapshotFormat}, whose node-by-node copy is what makes a fuzzy
 * walk safe; Apache's body writes the ACL cache before the nodes, which a walk of a changing tree cannot). A restart
 * reads whichever is newest and replays the proposals logged after it.
 *
 * <p>Everything but the snapshot thread's writer runs on the commit thread (or before it starts).
 */
final class ApacheSnapshots {
    private static final Logger LOG = System.getLogger(ApacheSnapshots.class.getName());

    /** Longest string or buffer in a SNAP's database: a znode's data is bounded by jute.maxbuffer on Apache's side. */
    private static final int SNAPSHOT_FIELD_BYTES_MAX = ApacheFollower.PACKET_DATA_BYTES_MAX;
    /**
     * First int of a snapshot this member wrote itself; an Apache database body starts with its session count, which
     * is never negative, so the two never look alike.
     */
    static final int OWN_SNAPSHOT_MARK = 0xF7AD_0001;

    private final ZkServer server;
    private final FileZabDisk disk;
    private final BackgroundSnapshots snapshots;
    /** Runs after each install: the tree's {@code /zookeeper/config} is zoo.cfg's again until a commit says more. */
    private final Runnable afterInstall;
    private long appliedSinceSnapshot;
    /** Commits after which the next snapshot is due: snapCount / 2 plus a random part, as Apache rolls it. */
    private long snapshotDueAfter;

    ApacheSnapshots(ZkServer server, FileZabDisk disk, Runnable afterInstall) {
        this.server = server;
        this.disk = disk;
        this.afterInstall = afterInstall;
        this.snapshots = new BackgroundSnapshots(this::writeOwnSnapshot, server.tree, server.database);
        rollSnapshotDue();
    }

    /**
     * Rebuilds the tree from what the follower wrote: the last SNAP (Apache's database body). The proposals logged
     * after it are returned, not applied: some may never have committed, and the next leader's DIFF (all of them are
     * in its history) or TRUNC (those above its zxid are not) decides, before this member serves. Runs before the
     * commit thread starts.
     */
    List<LearnerWire.QuorumPacket> recover(DurableState loaded) throws IOException {
        long snapshotZxid = loaded.snapshotZxid();
        if (loaded.snapshot() != null) {
            try (InputStream in = loaded.snapshot().open()) {
                install(snapshotZxid, in);
            }
        }
        List<LearnerWire.QuorumPacket> logged = new ArrayList<>();
        for (LogEntry entry : loaded.log()) {
            if (entry.zxid() > snapshotZxid) {
                logged.add(new LearnerWire.QuorumPacket(LearnerWire.PROPOSAL, entry.zxid(), entry.txn()));
            }
        }
        if (snapshotZxid > 0 || !logged.isEmpty()) {
            LOG.log(Level.INFO, () -> "Recovered the Apache-protocol state: snapshot at zxid 0x"
                    + Long.toHexString(snapshotZxid) + ", " + logged.size() + " logged proposals after it, applied "
                    + "once the leader confirms them");
        }
        return logged;
    }

    /** Installs a stored snapshot: the leader's SNAP (Apache's database body) or one of this member's own. */
    void install(long zxid, InputStream body) throws IOException {
        // The snapshot thread must not walk the tree while it is replaced (nor store a mix of the two).
        snapshots.cancelAndAwait();
        server.tree.clearForSnapshot();
        server.sessions.byId().clear();
        DataInputStream in = new DataInputStream(new BufferedInputStream(body, 64 << 10));
        in.mark(Integer.BYTES);
        boolean own = in.readInt() == OWN_SNAPSHOT_MARK;
        if (own) {
            long written = SnapshotFormat.read(in, server.tree, server.sessions.byId());
            if (written != zxid) {
                throw new IOException("snapshot stored at zxid 0x" + Long.toHexString(zxid) + " says 0x"
                        + Long.toHexString(written));
            }
        } else {
            in.reset();
            ApacheTreeFormat.read(in, server.tree, server.sessions.byId(), SNAPSHOT_FIELD_BYTES_MAX);
        }
        server.tree.setLastProcessedZxid(zxid);
        server.recovered();
        afterInstall.run();
        appliedSinceSnapshot = 0;
        LOG.log(Level.INFO, () -> "Installed " + (own ? "this member's own" : "the leader's") + " snapshot at zxid 0x"
                + Long.toHexString(zxid) + ": " + server.tree.nodeCount() + " znodes, "
                + server.sessions.byId().size() + " sessions");
    }

    private void rollSnapshotDue() {
        int snapCount = Math.max(2, server.config.snapCount());
        snapshotDueAfter = snapCount / 2 + ThreadLocalRandom.current().nextInt(snapCount / 2);
    }

    /**
     * After each applied commit: starts a snapshot on the snapshot thread once enough were applied since the last one
     * (Apache's SyncRequestProcessor.shouldSnapshot); this thread only notes the zxid and copies the sessions.
     */
    void applied() {
        if (++appliedSinceSnapshot <= snapshotDueAfter) {
            return;
        }
        // Counted from this attempt even when skipped, so a slow writer is not asked at each commit.
        appliedSinceSnapshot = 0;
        rollSnapshotDue();
        snapshots.start(server.tree.lastProcessedZxid(), SnapshotFormat.sessionTimeouts(server.sessions.byId()));
    }

    /**
     * The snapshot thread's writer: the snapshot into the follower's store, then the log files and older snapshots it
     * covers go. The follower thread writes a SNAP into the same store; the disk's monitor keeps the two apart (a SNAP
     * at the same zxid would otherwise share the temporary file). Only proposals applied here, hence committed, are
     * at or below the zxid, so no proposal still waiting for its commit is purged.
     */
    private void writeOwnSnapshot(long zxid, ZkStore.SnapshotWriter body) throws IOException {
        synchronized (disk) {
            disk.writeSnapshot(zxid, out -> {
                out.writeInt(OWN_SNAPSHOT_MARK);
                body.write(out);
            });
            disk.retainNewestSnapshots();
        }
        disk.purgeBefore(zxid);
    }

    /** Snapshots this member wrote itself since it started (tests). */
    long completed() {
        return snapshots.completed();
    }

    /** A snapshot being written is abandoned (the log covers everything it would). */
    void cancelAndAwait() {
        snapshots.cancelAndAwait();
    }
}
