package io.tandem.server.zookeeper;

import static io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE;
import static io.tandem.zk.wire.Acls.READ_ACL_UNSAFE;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.WatcherType;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The znode tree and the one place transactions change it. {@link #processTxn} mirrors Apache's DataTree.processTxn:
 * the same Stat bookkeeping (parent cversion/pzxid on create, pzxid only on delete), the same multi semantics (ops
 * before a failure report Ok, the failing op its error, later ops RuntimeInconsistency) and the same watch events.
 * Owned by the commit thread; nothing else reads or writes it.
 */
final class DataTree {
    private static final Set<String> SPECIAL_PATHS = Set.of("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config");

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

    private final Map<String, DataNode> nodes = new HashMap<>();
    private final Map<Long, Set<String>> ephemerals = new HashMap<>();
    private final Set<String> containers = new HashSet<>();
    private final Set<String> ttls = new HashSet<>();
    final WatchManager dataWatches = new WatchManager();
    final WatchManager childWatches = new WatchManager();
    private long lastProcessedZxid;

    DataTree() {
        addInitialNodes();
    }

    /** Forgets every node (watches stay registered): a member installing a snapshot from its leader starts over. */
    void clearForSnapshot() {
        nodes.clear();
        ephemerals.clear();
        containers.clear();
        ttls.clear();
        lastProcessedZxid = 0;
        addInitialNodes();
    }

    private void addInitialNodes() {
        DataNode root = new DataNode(new byte[0], OPEN_ACL_UNSAFE, 0, 0, 0);
        // Apache keeps the root under both "" (so that parent lookups of "/x" work) and "/".
        nodes.put("", root);
        nodes.put("/", root);
        DataNode zookeeper = new DataNode(new byte[0], OPEN_ACL_UNSAFE, 0, 0, 0);
        root.addChild("zookeeper");
        nodes.put("/zookeeper", zookeeper);
        zookeeper.addChild("quota");
        nodes.put("/zookeeper/quota", new DataNode(new byte[0], OPEN_ACL_UNSAFE, 0, 0, 0));
        zookeeper.addChild("config");
        nodes.put("/zookeeper/config", new DataNode(new byte[0], READ_ACL_UNSAFE, 0, 0, 0));
    }

    static boolean isSpecialPath(String path) {
        return SPECIAL_PATHS.contains(path);
    }

    DataNode getNode(String path) {
        return nodes.get(path);
    }

    long lastProcessedZxid() {
        return lastProcessedZxid;
    }

    void setLastProcessedZxid(long zxid) {
        lastProcessedZxid = zxid;
    }

    /** Node count as Apache reports it: the size of its node map, where the root is counted under "" and "/". */
    int nodeCount() {
        return nodes.size();
    }

    Set<String> ephemeralsOf(long sessionId) {
        Set<String> paths = ephemerals.get(sessionId);
        return paths == null ? Set.of() : new HashSet<>(paths);
    }

    Map<Long, Set<String>> allEphemerals() {
        return ephemerals;
    }

    int ephemeralCount() {
        int count = 0;
        for (Set<String> paths : ephemerals.values()) {
            count += paths.size();
        }
        return count;
    }

    Set<String> containers() {
        return new HashSet<>(containers);
    }

    Set<String> ttls() {
        return new HashSet<>(ttls);
    }

    long approximateDataSize() {
        long size = 0;
        for (Map.Entry<String, DataNode> entry : nodes.entrySet()) {
            size += entry.getKey().length() + entry.getValue().dataLength();
        }
        return size;
    }

    /** Every node path except the "" alias of the root, for snapshots and dumps. */
    Iterable<Map.Entry<String, DataNode>> entries() {
        return () -> nodes.entrySet().stream().filter(e -> !e.getKey().isEmpty()).iterator();
    }

    int allChildrenNumber(String path) {
        if (path.equals("/")) {
            return nodes.size() - 2;
        }
        String prefix = path + "/";
        int count = 0;
        for (String key : nodes.keySet()) {
            if (key.startsWith(prefix)) {
                count++;
            }
        }
        return count;
    }

    /** Puts a node read from a snapshot into the tree; parents come first, built-in nodes are overwritten in place. */
    void restoreNode(String path, DataNode restored) {
        DataNode existing = nodes.get(path);
        if (existing != null) {
            existing.data = restored.data;
            existing.acl = restored.acl;
            existing.czxid = restored.czxid;
            existing.mzxid = restored.mzxid;
            existing.ctime = restored.ctime;
            existing.mtime = restored.mtime;
            existing.version = restored.version;
            existing.cversion = restored.cversion;
            existing.aversion = restored.aversion;
            existing.ephemeralOwner = restored.ephemeralOwner;
            existing.pzxid = restored.pzxid;
            return;
        }
        int lastSlash = path.lastIndexOf('/');
        DataNode parent = nodes.get(path.substring(0, lastSlash));
        if (parent == null) {
            throw new IllegalStateException("snapshot lists " + path + " before its parent");
        }
        parent.addChild(path.substring(lastSlash + 1));
        nodes.put(path, restored);
        long owner = restored.ephemeralOwner;
        if (EphemeralOwner.isContainer(owner)) {
            containers.add(path);
        } else if (EphemeralOwner.isTtl(owner)) {
            ttls.add(path);
        } else if (owner != 0) {
            ephemerals.computeIfAbsent(owner, k -> new HashSet<>()).add(path);
        }
    }

    // ---------------------------------------------------------------- applying transactions

    Result processTxn(TxnHeader header, JuteRecord txn) {
        return processTxn(header, txn, false);
    }

    private Result processTxn(TxnHeader header, JuteRecord txn, boolean isSubTxn) {
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
                    deleteNode(delete.path(), header.zxid());
                }
                case OpCode.SET_DATA, OpCode.RECONFIG -> { // Apache: a reconfig is a SetDataTxn of /zookeeper/config
                    SetDataTxn set = (SetDataTxn) txn;
                    rc.path = set.path();
                    rc.stat = setData(set.path(), set.data(), set.version(), header.zxid(), header.time());
                }
                case OpCode.SET_ACL -> {
                    SetACLTxn set = (SetACLTxn) txn;
                    rc.path = set.path();
                    rc.stat = setAcl(set.path(), set.acl(), set.version());
                }
                case OpCode.CLOSE_SESSION -> {
                    Set<String> local = ephemerals.remove(header.clientId());
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
            DataNode parent = nodes.get(rc.path.substring(0, rc.path.lastIndexOf('/')));
            int parentCVersion = ((CreateTxn) txn).parentCVersion();
            if (parent != null && parentCVersion > parent.cversion) {
                parent.cversion = parentCVersion;
                parent.pzxid = header.zxid();
            }
        }
        if (!isSubTxn && rc.zxid > lastProcessedZxid) {
            lastProcessedZxid = rc.zxid;
        }
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
                record = decodeSubTxn(type, sub.data());
            }
            TxnHeader subHeader = new TxnHeader(header.clientId(), header.cxid(), header.zxid(), header.time(), type);
            Result subResult = processTxn(subHeader, record, true);
            rc.multiResult.add(subResult);
            if (subResult.err != 0 && rc.err == 0) {
                rc.err = subResult.err;
            }
        }
    }

    static JuteRecord decodeSubTxn(int type, byte[] data) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2 -> JuteInput.decode(data, CreateTxn::read);
            case OpCode.CREATE_TTL -> JuteInput.decode(data, CreateTTLTxn::read);
            case OpCode.CREATE_CONTAINER -> JuteInput.decode(data, CreateContainerTxn::read);
            case OpCode.DELETE, OpCode.DELETE_CONTAINER -> JuteInput.decode(data, DeleteTxn::read);
            case OpCode.SET_DATA -> JuteInput.decode(data, SetDataTxn::read);
            case OpCode.CHECK -> JuteInput.decode(data, CheckVersionTxn::read);
            case OpCode.ERROR -> JuteInput.decode(data, ErrorTxn::read);
            default -> throw new IllegalArgumentException("invalid op in multi: " + type);
        };
    }

    Stat createNode(String path, byte[] data, List<ACL> acl, long ephemeralOwner, int parentCVersion, long zxid,
                    long time) throws ZkException {
        int lastSlash = path.lastIndexOf('/');
        String parentName = path.substring(0, lastSlash);
        String childName = path.substring(lastSlash + 1);
        DataNode parent = nodes.get(parentName);
        if (parent == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        if (nodes.containsKey(path)) {
            throw new ZkException(KeeperCode.NODE_EXISTS, path);
        }
        if (parentCVersion == -1) {
            parentCVersion = parent.cversion + 1;
        }
        if (parentCVersion > parent.cversion) {
            parent.cversion = parentCVersion;
            parent.pzxid = zxid;
        }
        DataNode child = new DataNode(data, acl, zxid, time, ephemeralOwner);
        parent.addChild(childName);
        nodes.put(path, child);
        if (EphemeralOwner.isContainer(ephemeralOwner)) {
            containers.add(path);
        } else if (EphemeralOwner.isTtl(ephemeralOwner)) {
            ttls.add(path);
        } else if (ephemeralOwner != 0) {
            ephemerals.computeIfAbsent(ephemeralOwner, k -> new HashSet<>()).add(path);
        }
        Stat stat = child.stat();
        dataWatches.trigger(path, EventType.NODE_CREATED, zxid, acl, null);
        childWatches.trigger(parentName.isEmpty() ? "/" : parentName, EventType.NODE_CHILDREN_CHANGED, zxid,
                parent.acl, null);
        return stat;
    }

    void deleteNode(String path, long zxid) throws ZkException {
        int lastSlash = path.lastIndexOf('/');
        String parentName = path.substring(0, lastSlash);
        String childName = path.substring(lastSlash + 1);
        DataNode parent = nodes.get(parentName);
        if (parent == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        parent.removeChild(childName);
        if (zxid > parent.pzxid) {
            parent.pzxid = zxid;
        }
        DataNode node = nodes.remove(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        long owner = node.ephemeralOwner;
        if (EphemeralOwner.isContainer(owner)) {
            containers.remove(path);
        } else if (EphemeralOwner.isTtl(owner)) {
            ttls.remove(path);
        } else if (owner != 0) {
            Set<String> paths = ephemerals.get(owner);
            if (paths != null) {
                paths.remove(path);
            }
        }
        Set<Watcher> fired = dataWatches.trigger(path, EventType.NODE_DELETED, zxid, node.acl, null);
        childWatches.trigger(path, EventType.NODE_DELETED, zxid, node.acl, fired);
        childWatches.trigger(parentName.isEmpty() ? "/" : parentName, EventType.NODE_CHILDREN_CHANGED, zxid,
                parent.acl, null);
    }

    Stat setData(String path, byte[] data, int version, long zxid, long time) throws ZkException {
        DataNode node = nodes.get(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        node.data = data;
        node.mtime = time;
        node.mzxid = zxid;
        node.version = version;
        Stat stat = node.stat();
        dataWatches.trigger(path, EventType.NODE_DATA_CHANGED, zxid, node.acl, null);
        return stat;
    }

    Stat setAcl(String path, List<ACL> acl, int version) throws ZkException {
        DataNode node = nodes.get(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        node.aversion = version;
        node.acl = acl;
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

    // ---------------------------------------------------------------- reads and watches

    void addDataWatch(String path, Watcher watcher) {
        dataWatches.addWatch(path, watcher, WatchManager.STANDARD);
    }

    void addChildWatch(String path, Watcher watcher) {
        childWatches.addWatch(path, watcher, WatchManager.STANDARD);
    }

    /** addWatch: persistent watches go to both managers, recursive ones to the data manager only, as in Apache. */
    void addPersistentWatch(String path, Watcher watcher, boolean recursive) {
        if (recursive) {
            dataWatches.addWatch(path, watcher, WatchManager.PERSISTENT_RECURSIVE);
        } else {
            dataWatches.addWatch(path, watcher, WatchManager.PERSISTENT);
            childWatches.addWatch(path, watcher, WatchManager.PERSISTENT);
        }
    }

    /** Re-registers a reconnecting client's watches, firing at once for what changed after {@code relativeZxid}. */
    void setWatches(long relativeZxid, List<String> data, List<String> exist, List<String> child,
                    List<String> persistent, List<String> persistentRecursive, Watcher watcher) {
        for (String path : nullToEmpty(data)) {
            DataNode node = nodes.get(path);
            if (node == null) {
                watcher.process(WatchedEvent.of(EventType.NODE_DELETED, path, -1));
            } else if (node.mzxid > relativeZxid) {
                watcher.process(WatchedEvent.of(EventType.NODE_DATA_CHANGED, path, -1));
            } else {
                addDataWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(exist)) {
            if (nodes.get(path) != null) {
                watcher.process(WatchedEvent.of(EventType.NODE_CREATED, path, -1));
            } else {
                addDataWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(child)) {
            DataNode node = nodes.get(path);
            if (node == null) {
                watcher.process(WatchedEvent.of(EventType.NODE_DELETED, path, -1));
            } else if (node.pzxid > relativeZxid) {
                watcher.process(WatchedEvent.of(EventType.NODE_CHILDREN_CHANGED, path, -1));
            } else {
                addChildWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(persistent)) {
            addPersistentWatch(path, watcher, false);
        }
        for (String path : nullToEmpty(persistentRecursive)) {
            addPersistentWatch(path, watcher, true);
        }
    }

    /** checkWatches/removeWatches of one watch kind; false when there was none (an unknown kind has none). */
    boolean removeWatch(String path, int watcherType, Watcher watcher, boolean dryRun) {
        WatcherType type = WatcherType.fromCode(watcherType);
        if (type == null) {
            return false;
        }
        return switch (type) {
            case CHILDREN -> apply(childWatches, path, watcher, WatchManager.STANDARD, dryRun);
            case DATA -> apply(dataWatches, path, watcher, WatchManager.STANDARD, dryRun);
            case ANY -> apply(childWatches, path, watcher, 0, dryRun) | apply(dataWatches, path, watcher, 0, dryRun);
            case PERSISTENT -> apply(childWatches, path, watcher, WatchManager.PERSISTENT, dryRun)
                    | apply(dataWatches, path, watcher, WatchManager.PERSISTENT, dryRun);
            case PERSISTENT_RECURSIVE ->
                    apply(dataWatches, path, watcher, WatchManager.PERSISTENT_RECURSIVE, dryRun);
        };
    }

    private static boolean apply(WatchManager manager, String path, Watcher watcher, int mode, boolean dryRun) {
        return dryRun ? manager.containsWatch(path, watcher, mode) : manager.removeWatch(path, watcher, mode);
    }

    void removeWatcher(Watcher watcher) {
        dataWatches.removeWatcher(watcher);
        childWatches.removeWatcher(watcher);
    }

    private static List<String> nullToEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }
}
