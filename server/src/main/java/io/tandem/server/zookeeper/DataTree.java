package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import static io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE;
import static io.tandem.zk.wire.Acls.READ_ACL_UNSAFE;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.txn.CheckVersionTxn;
import io.tandem.zk.wire.txn.CloseSessionTxn;
import io.tandem.zk.wire.txn.CreateContainerTxn;
import io.tandem.zk.wire.txn.CreateTTLTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.MultiTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.Txn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The znode tree and the one place transactions change it. {@link #processTxn} mirrors Apache's DataTree.processTxn:
 * the same Stat bookkeeping (parent cversion/pzxid on create, pzxid only on delete), the same multi semantics (ops
 * before a failure report Ok, the failing op its error, later ops RuntimeInconsistency) and the same watch events.
 * Owned by the commit thread: it alone changes the tree and it alone walks it, with one exception, the background
 * snapshot writer ({@link SnapshotFormat#write}), which reads nodes while commits go on. For that reader every change
 * to a node already in the tree (its data, stat fields, ACL or children) is made holding that node's monitor, as
 * Apache's DataTree does with {@code synchronized (node)}; the writer copies each node under the same monitor. The
 * commit thread's own reads need no lock: it is the only writer.
 */
final class DataTree {
    private static final Set<String> SPECIAL_PATHS = Set.of("/", SpecialPaths.ZOOKEEPER, SpecialPaths.QUOTA, SpecialPaths.CONFIG);

    /** Result of applying one transaction, as FinalRequestProcessor needs it to answer. */
    static final class Result {
        long clientId;
        int cxid;
        long zxid;
        int type;
        int err;
        String path;
        Stat stat;
        List<Result> multiResult;
    }

    /** The tree itself: each node holds its children (see {@link TreePaths}); there is no map of full paths. */
    private DataNode root;
    /** Real nodes, the root included (Apache's node map also holds the root under "", see {@link #nodeCount}). */
    private int nodes;
    private final AclCache acls = new AclCache();
    /** The parent {@link #restoreNode} looked up last, and its path (siblings come together in a snapshot). */
    private String restoreParentPath;
    private DataNode restoreParent;
    /** Each session's ephemerals, the containers and the TTL nodes. */
    private final OwnedNodes owned = new OwnedNodes();
    /** The data and child watches, and their registration by reads (changes here trigger them). */
    final TreeWatches watches = new TreeWatches(this::getNode);
    private final WatchManager dataWatches = watches.data;
    private final WatchManager childWatches = watches.child;
    private long lastProcessedZxid;
    /** Apache's tree digest, kept as changes are applied (the hash admin command reads it). */
    final TreeDigest digest = new TreeDigest();
    /** Apache's digest log, which the hash admin command answers. */
    final DigestHistory digestHistory = new DigestHistory();
    /** mntr's per-namespace write and read sizes, as Apache's DataTree counts them (reads are counted by the reader). */
    final NamespaceStats namespaces = new NamespaceStats();
    /** Counts {@link #clearForSnapshot}s: a node found before one is no longer in the tree (see {@link #liveHint}). */
    private int generation;
    /** Apache's quota bookkeeping: the zookeeper_stats nodes kept current, hard limits checked. */
    final QuotaAccounting quotas = new QuotaAccounting(this);

    DataTree() {
        addInitialNodes();
    }

    /** Forgets every node (watches stay registered): a member installing a snapshot from its leader starts over. */
    void clearForSnapshot() {
        generation++;
        acls.clear();
        restoreParentPath = null;
        restoreParent = null;
        owned.clear();
        lastProcessedZxid = 0;
        digest.reset();
        digestHistory.clear();
        quotas.clear();
        addInitialNodes();
    }

    private void addInitialNodes() {
        root = builtIn("/", OPEN_ACL_UNSAFE);
        nodes = 1;
        DataNode zookeeper = builtIn(SpecialPaths.ZOOKEEPER, OPEN_ACL_UNSAFE);
        attach(root, zookeeper);
        attach(zookeeper, builtIn(SpecialPaths.QUOTA, OPEN_ACL_UNSAFE));
        DataNode config = builtIn(SpecialPaths.CONFIG, READ_ACL_UNSAFE);
        config.aversion = -1; // Apache's addConfigNode sets its ACL with version -1 (ZOOKEEPER-2014)
        attach(zookeeper, config);
        digest.add("/", root);
        digest.add(SpecialPaths.ZOOKEEPER, zookeeper);
    }

    private DataNode builtIn(String path, List<ACL> acl) {
        return DataNode.of(path, path.lastIndexOf('/') + 1, new byte[0], acls.acquire(acl), 0, 0, 0);
    }

    /** Makes {@code child} (already named) a child of {@code parent}. */
    private void attach(DataNode parent, DataNode child) {
        child.parent = parent;
        parent.childTable().add(child);
        nodes++;
    }

    /** The node at {@code path.substring(0, end)}: see {@link TreePaths#lookup}. */
    private DataNode lookup(String path, int end) {
        return TreePaths.lookup(root, path, end);
    }

    static boolean isSpecialPath(String path) {
        return SPECIAL_PATHS.contains(path);
    }

    /** The root, where a snapshot's walk starts. */
    DataNode root() {
        return root;
    }

    DataNode getNode(String path) {
        return path == null ? null : lookup(path, path.length());
    }

    /** Distinct ACL lists the nodes use (Apache's ReferenceCountedACLCache size). */
    int aclListCount() {
        return acls.size();
    }

    long lastProcessedZxid() {
        return lastProcessedZxid;
    }

    /** The tree now holds everything up to {@code zxid}: a snapshot was loaded (or a log replayed) into it. */
    void setLastProcessedZxid(long zxid) {
        lastProcessedZxid = zxid;
        // Quota nodes a snapshot brought in are set up now, before the log is replayed on top (Apache's setupQuota).
        quotas.snapshotLoaded();
    }

    /** Node count as Apache reports it: the size of its node map, where the root is counted under "" and "/". */
    int nodeCount() {
        return nodes + 1;
    }

    Set<String> ephemeralsOf(long sessionId) {
        return owned.ephemeralsOf(sessionId);
    }

    Map<Long, Set<String>> allEphemerals() {
        return owned.allEphemerals();
    }

    int ephemeralCount() {
        return owned.ephemeralCount();
    }

    Set<String> containers() {
        return owned.containers();
    }

    Set<String> ttls() {
        return owned.ttls();
    }

    /** Apache's figure: path length plus data length over its node map, where the root appears as "" and "/". */
    long approximateDataSize() {
        return TreeWalks.approximateDataSize(root);
    }

    /** Every node with its path, parents before children, for dumps. */
    Iterable<Map.Entry<String, DataNode>> entries() {
        return TreeWalks.entries(root);
    }

    int allChildrenNumber(String path) {
        if (path.equals("/")) {
            return nodes - 1;
        }
        DataNode top = getNode(path);
        return top == null ? 0 : TreeWalks.descendantCount(top);
    }

    /** Puts a node read from a snapshot into the tree; parents come first, built-in nodes are overwritten in place. */
    void restoreNode(String path, DataNode restored) {
        quotas.restored(path);
        int lastSlash = path.lastIndexOf('/');
        // A snapshot lists siblings together: look their parent up once, not once per child.
        DataNode parent;
        if (restoreParentPath != null && restoreParentPath.length() == lastSlash && path.startsWith(restoreParentPath)) {
            parent = restoreParent;
        } else {
            parent = lookup(path, lastSlash);
            restoreParentPath = path.substring(0, lastSlash);
            restoreParent = parent;
        }
        DataNode existing = path.equals("/") ? root : parent == null ? null : TreePaths.childOf(parent, path, lastSlash + 1);
        if (existing != null) {
            digest.remove(path, existing);
            existing.setData(restored.data());
            acls.release(existing.acl);
            existing.acl = acls.acquire(restored.acl);
            existing.czxid = restored.czxid;
            existing.mzxid = restored.mzxid;
            existing.ctime = restored.ctime;
            existing.mtime = restored.mtime;
            existing.version = restored.version;
            existing.setCversion(restored.cversion());
            existing.aversion = restored.aversion;
            if (restored.ephemeralOwner() != existing.ephemeralOwner()) {
                throw new IllegalStateException("snapshot gives built-in node " + path + " an owner");
            }
            existing.setPzxid(restored.pzxid());
            digest.add(path, existing);
            return;
        }
        if (parent == null) {
            throw new IllegalStateException("snapshot lists " + path + " before its parent");
        }
        restored.acl = acls.acquire(restored.acl);
        attach(parent, restored);
        digest.add(path, restored);
        owned.added(path, restored.ephemeralOwner());
    }

    // ---------------------------------------------------------------- applying transactions

    Result processTxn(TxnHeader header, JuteRecord txn) {
        return processTxn(header, txn, false, null);
    }

    /**
     * As {@link #processTxn(TxnHeader, JuteRecord)}, with the node of the txn's path as preparation found it in this
     * tree at {@code generation} (null when it did not look): a set or delete then skips walking the path again, half
     * of the tree walks of such a write (docs/profiles/zk-writes.md, "Set and delete"). A node is at the same path
     * for as long as it is in the tree (nodes never move), so the hint is used only while that holds.
     */
    Result processTxn(TxnHeader header, JuteRecord txn, DataNode node, int generation) {
        return processTxn(header, txn, false, liveHint(node, generation));
    }

    int generation() {
        return generation;
    }

    /** {@code node} if it is still in this tree: not deleted since (see {@link #deleteNode}), no snapshot installed. */
    private DataNode liveHint(DataNode node, int foundAt) {
        return node != null && foundAt == generation && node.seq != DataNode.REMOVED ? node : null;
    }

    private Result processTxn(TxnHeader header, JuteRecord txn, boolean isSubTxn, DataNode hint) {
        Result rc = new Result();
        rc.clientId = header.clientId();
        rc.cxid = header.cxid();
        rc.zxid = header.zxid();
        rc.type = header.type();
        try {
            switch (header.type()) {
                case OpCode.CREATE, OpCode.CREATE2 -> {
                    CreateTxn create = (CreateTxn) txn;
                    rc.path = create.path();
                    rc.stat = createNode(create.path(), create.data(), create.acl(),
                            create.ephemeral() ? header.clientId() : 0, create.parentCVersion(), header.zxid(),
                            header.time());
                }
                case OpCode.CREATE_TTL -> {
                    CreateTTLTxn create = (CreateTTLTxn) txn;
                    rc.path = create.path();
                    rc.stat = createNode(create.path(), create.data(), create.acl(), EphemeralOwner.ofTtl(create.ttl()),
                            create.parentCVersion(), header.zxid(), header.time());
                }
                case OpCode.CREATE_CONTAINER -> {
                    CreateContainerTxn create = (CreateContainerTxn) txn;
                    rc.path = create.path();
                    rc.stat = createNode(create.path(), create.data(), create.acl(),
                            EphemeralOwner.CONTAINER, create.parentCVersion(), header.zxid(), header.time());
                }
                case OpCode.DELETE, OpCode.DELETE_CONTAINER -> {
                    DeleteTxn delete = (DeleteTxn) txn;
                    rc.path = delete.path();
                    deleteNode(delete.path(), header.zxid(), hint);
                }
                case OpCode.SET_DATA, OpCode.RECONFIG -> { // Apache: a reconfig is a SetDataTxn of /zookeeper/config
                    SetDataTxn set = (SetDataTxn) txn;
                    rc.path = set.path();
                    rc.stat = setData(set.path(), set.data(), set.version(), header.zxid(), header.time(), hint);
                }
                case OpCode.SET_ACL -> {
                    SetACLTxn set = (SetACLTxn) txn;
                    rc.path = set.path();
                    rc.stat = setAcl(set.path(), set.acl(), set.version());
                }
                case OpCode.CLOSE_SESSION -> {
                    Set<String> local = owned.removeSession(header.clientId());
                    List<String> inTxn = txn instanceof CloseSessionTxn close ? close.paths2Delete() : null;
                    killSession(header.zxid(), local, inTxn);
                }
                case OpCode.ERROR -> rc.err = ((ErrorTxn) txn).err();
                case OpCode.CHECK -> rc.path = ((CheckVersionTxn) txn).path();
                case OpCode.MULTI -> processMulti(header, (MultiTxn) txn, rc);
                default -> {
                    // createSession and others change no znodes.
                }
            }
        } catch (ZkException e) {
            rc.err = e.code();
        }
        // Replaying a create whose node survived in a fuzzy state: keep the parent's cversion/pzxid moving as Apache does.
        if (header.type() == OpCode.CREATE && rc.err == KeeperCode.NODE_EXISTS.code() && rc.path != null) {
            DataNode parent = lookup(rc.path, rc.path.lastIndexOf('/'));
            int parentCVersion = ((CreateTxn) txn).parentCVersion();
            if (parent != null) {
                String parentPath = rc.path.substring(0, rc.path.lastIndexOf('/'));
                synchronized (parent) {
                    digest.remove(parentPath, parent);
                    if (parentCVersion > parent.cversion()) {
                        parent.setCversion(parentCVersion);
                        parent.setPzxid(header.zxid());
                    }
                    digest.add(parentPath, parent);
                }
            }
        }
        if (!isSubTxn && rc.zxid > lastProcessedZxid) {
            lastProcessedZxid = rc.zxid;
        }
        if (!isSubTxn) digestHistory.applied(rc.zxid, digest.value());
        return rc;
    }

    private void processMulti(TxnHeader header, MultiTxn multi, Result rc) {
        rc.multiResult = new ArrayList<>();
        boolean failed = false;
        for (Txn sub : multi.txns()) {
            if (sub.type() == OpCode.ERROR) {
                failed = true;
                break;
            }
        }
        boolean postFailed = false;
        for (Txn sub : multi.txns()) {
            int type = sub.type();
            JuteRecord record;
            if (type == OpCode.ERROR) {
                postFailed = true;
            }
            if (failed && type != OpCode.ERROR) {
                record = new ErrorTxn(postFailed ? KeeperCode.RUNTIME_INCONSISTENCY.code() : KeeperCode.OK.code());
                type = OpCode.ERROR;
            } else {
                record = Jute.subTxn(type, sub.data());
            }
            TxnHeader subHeader = new TxnHeader(header.clientId(), header.cxid(), header.zxid(), header.time(), type);
            Result subResult = processTxn(subHeader, record, true, null);
            rc.multiResult.add(subResult);
            if (subResult.err != 0 && rc.err == 0) {
                rc.err = subResult.err;
            }
        }
    }

    Stat createNode(String path, byte[] data, List<ACL> acl, long ephemeralOwner, int parentCVersion, long zxid,
                    long time) throws ZkException {
        int lastSlash = path.lastIndexOf('/');
        DataNode parent = lookup(path, lastSlash);
        if (parent == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        if (TreePaths.childOf(parent, path, lastSlash + 1) != null) {
            throw new ZkException(KeeperCode.NODE_EXISTS, path);
        }
        String parentName = path.substring(0, lastSlash);
        if (parentCVersion == -1) {
            parentCVersion = parent.cversion() + 1;
        }
        DataNode child = DataNode.of(path, lastSlash + 1, data, acls.acquire(acl), zxid, time, ephemeralOwner);
        synchronized (parent) {
            digest.remove(parentName, parent);
            if (parentCVersion > parent.cversion()) {
                parent.setCversion(parentCVersion);
                parent.setPzxid(zxid);
            }
            digest.add(parentName, parent);
            attach(parent, child);
        }
        digest.add(path, child);
        owned.added(path, ephemeralOwner);
        Stat stat = child.stat();
        quotas.created(path, parentName, path.substring(lastSlash + 1), data == null ? 0 : data.length);
        namespaces.written(path, data == null ? 0 : data.length);
        dataWatches.trigger(path, EventType.NODE_CREATED, zxid, acl, null);
        childWatches.trigger(parentName.isEmpty() ? "/" : parentName, EventType.NODE_CHILDREN_CHANGED, zxid,
                parent.acl, null);
        return stat;
    }

    void deleteNode(String path, long zxid) throws ZkException {
        deleteNode(path, zxid, null);
    }

    /** {@code known}: the node at {@code path}, known to be in the tree ({@link #liveHint}), or null to look it up. */
    private void deleteNode(String path, long zxid, DataNode known) throws ZkException {
        int lastSlash = path.lastIndexOf('/');
        DataNode parent = known != null ? known.parent : lookup(path, lastSlash);
        if (parent == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        DataNode node = known != null ? known : TreePaths.childOf(parent, path, lastSlash + 1);
        String parentName = path.substring(0, lastSlash);
        synchronized (parent) {
            // As Apache: the parent's pzxid moves even when the child is already gone (a replay over a fuzzy
            // snapshot), but never backwards over a later create's.
            digest.remove(parentName, parent);
            if (zxid > parent.pzxid()) {
                parent.setPzxid(zxid);
            }
            digest.add(parentName, parent);
            if (node == null) {
                throw new ZkException(KeeperCode.NO_NODE, path);
            }
            parent.children.remove(node);
            digest.remove(path, node);
            // Marked under the parent's monitor, where the snapshot writer sorts the children by seq.
            node.seq = DataNode.REMOVED;
        }
        nodes--;
        restoreParentPath = null;
        restoreParent = null;
        acls.release(node.acl);
        owned.removed(path, node.ephemeralOwner());
        quotas.deleted(path, parentName, path.substring(lastSlash + 1), node.dataLength());
        namespaces.written(path, 0);
        Set<Watcher> fired = dataWatches.trigger(path, EventType.NODE_DELETED, zxid, node.acl, null);
        childWatches.trigger(path, EventType.NODE_DELETED, zxid, node.acl, fired);
        if (childWatches.watchesAnything()) {
            childWatches.trigger(parentName.isEmpty() ? "/" : parentName, EventType.NODE_CHILDREN_CHANGED, zxid,
                    parent.acl, null);
        }
    }

    Stat setData(String path, byte[] data, int version, long zxid, long time) throws ZkException {
        return setData(path, data, version, zxid, time, null);
    }

    private Stat setData(String path, byte[] data, int version, long zxid, long time, DataNode known)
            throws ZkException {
        DataNode node = known != null ? known : getNode(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        Stat stat;
        int oldLength;
        synchronized (node) {
            oldLength = node.dataLength();
            digest.remove(path, node);
            node.setData(data);
            node.mtime = time;
            node.mzxid = zxid;
            node.version = version;
            digest.add(path, node);
            stat = node.stat();
        }
        quotas.dataChanged(path, oldLength, data == null ? 0 : data.length);
        namespaces.written(path, data == null ? 0 : data.length);
        dataWatches.trigger(path, EventType.NODE_DATA_CHANGED, zxid, node.acl, null);
        return stat;
    }

    /**
     * Replaces a node's data and nothing else: no version, mzxid or mtime change and no watch fired. Only the quota
     * stats nodes are changed so, as Apache's DataTree changes them.
     */
    void replaceDataInPlace(String path, DataNode node, byte[] data) {
        synchronized (node) {
            digest.remove(path, node);
            node.setData(data);
            digest.add(path, node);
        }
    }

    Stat setAcl(String path, List<ACL> acl, int version) throws ZkException {
        DataNode node = getNode(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        List<ACL> previous = node.acl;
        synchronized (node) {
            digest.remove(path, node);
            node.aversion = version;
            node.acl = acls.acquire(acl);
            digest.add(path, node);
        }
        acls.release(previous);
        return node.stat();
    }

    private void killSession(long zxid, Set<String> local, List<String> inTxn) {
        if (inTxn != null) {
            for (String path : inTxn) {
                deleteQuietly(path, zxid);
                if (local != null) {
                    local.remove(path);
                }
            }
        }
        if (local != null) {
            for (String path : local) {
                deleteQuietly(path, zxid);
            }
        }
    }

    private void deleteQuietly(String path, long zxid) {
        try {
            deleteNode(path, zxid);
        } catch (ZkException e) {
            // Already gone (replay or a racing delete): Apache logs and carries on too.
        }
    }
}
