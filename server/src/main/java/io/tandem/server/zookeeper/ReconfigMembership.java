package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The member's side of dynamic reconfiguration, for {@link EnsembleCommit}: the {@code /zookeeper/config} znode
 * filled at start and after a snapshot, each configuration applied (its version as the znode's mzxid, the members
 * handed to Zab by {@link EnsembleMembers}, Apache's dynamic configuration file), the leader's view of who is synced
 * for {@link Reconfig}'s NewConfigNoQuorum, and what {@code conf} prints of the ensemble ({@link EnsembleConf}).
 * Used on the commit thread, except {@link #confTail} (any thread: it reads the znode's current data).
 */
final class ReconfigMembership {
    private final ZkServer server;
    private final CommitClock clock;
    private final EnsembleConf conf;
    /** The running Zab, null before it starts. */
    private final Supplier<EnsembleZab> zab;
    /** Who is in the ensemble as committed configurations change it. */
    final EnsembleMembers members;

    ReconfigMembership(ZkServer server, Map<String, String> settings, CommitClock clock, Supplier<EnsembleZab> zab) {
        this.server = server;
        this.clock = clock;
        this.zab = zab;
        this.members = new EnsembleMembers(EnsembleConfig.fromSettings(settings));
        this.conf = EnsembleConf.fromSettings(settings);
        server.preparer.reconfig().syncedWithLeader(id -> {
            EnsembleZab running = zab.get();
            return running != null && running.isSyncedWithLeader(id);
        });
        initConfigNode();
    }

    void initConfigNode() {
        Reconfig.initConfigNode(server.tree, members.staticConfig(), clock.currentTimeMillis());
    }

    /** A reconfig transaction (stamped with its version) was applied at {@code zxid}. */
    void applied(SetDataTxn txn, long zxid, boolean serving) {
        // Apache's znode carries the version as mzxid: the zxid of a reconfig, the epoch's first zxid of an
        // established configuration (written outside the log there, by initConfigInZKDatabase).
        EnsembleConfig applied = EnsembleConfig.parse(txn.data());
        server.tree.getNode(SpecialPaths.CONFIG).mzxid = applied.version();
        members.committed(applied, zxid, serving, zab.get());
        if (zab.get() instanceof EnsembleZab.Production) { // the simulator's members have no data directory
            Reconfig.writeDynamicFileOrWarn(server.config.dataDir(), applied);
        }
    }

    /** A snapshot replaced the tree at {@code zxid}: its configuration is the one in force. */
    void snapshotInstalled(long zxid, boolean serving) {
        initConfigNode();
        DataNode configNode = server.tree.getNode(SpecialPaths.CONFIG);
        if (configNode != null) {
            members.committed(EnsembleConfig.parse(configNode.data()), zxid, serving, zab.get());
        }
    }

    /**
     * Zab adopted a configuration (the application's text {@code text}, committed at {@code version}) from a peer's
     * notification; see {@link EnsembleMembers#adopted}. A text that does not parse is a peer's bug: logged, ignored.
     */
    void adopted(long version, byte[] text) {
        try {
            members.adopted(EnsembleConfig.parse(text), version, zab.get());
        } catch (RuntimeException e) {
            System.getLogger(ReconfigMembership.class.getName()).log(System.Logger.Level.WARNING,
                    "ignoring configuration version 0x" + Long.toHexString(version) + " adopted from a peer: " + e);
        }
    }

    /** conf's quorum part, as Apache's QuorumZooKeeperServer.dumpConf: limits, ports, role and the membership. */
    String confTail() {
        DataNode config = server.tree.getNode(SpecialPaths.CONFIG);
        EnsembleZab running = zab.get();
        return conf.text(members.myId(), running != null && running.isObserver(), config == null ? null
                : config.data());
    }
}
