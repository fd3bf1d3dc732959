package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.PathValidation;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.txn.CheckVersionTxn;
import io.tandem.zk.wire.txn.CloseSessionTxn;
import io.tandem.zk.wire.txn.CreateContainerTxn;
import io.tandem.zk.wire.txn.CreateSessionTxn;
import io.tandem.zk.wire.txn.CreateTTLTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.MultiTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.Txn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a write request into a transaction or an error, as Apache's PrepRequestProcessor does: path, ACL and version
 * checks against the tree as it will be once everything prepared before has been applied (the outstanding change
 * records). A failed check still consumes a zxid and becomes an ErrorTxn, exactly as in Apache.
 *
 * <p>Every prepared request gets a sequence number, and every change record it makes carries it. The caller reports
 * with {@link #applied} once a request's transaction is in the tree; records made by it and by everything prepared
 * before are then dropped, each only if it is still the newest record for its path (Apache's identity check in
 * FinalRequestProcessor), so a later change to the same path stays outstanding until it is applied too.
 */
final class Preparer {
    /** Apache's CreateMode flags: persistent 0, ephemeral 1, sequential 2, ephemeral sequential 3, container 4, TTL 5/6. */
    private static final int MODE_MAX = 6;

    private final DataTree tree;
    private final Map<Long, Session> sessions;
    private final Reconfig reconfig;
    /** Which ACL schemes are registered (authProvider.*); set once before the server starts. */
    ZkSecurity security = ZkSecurity.NONE;
    /** Apache's {@code zookeeper.enforceQuota}: refuse creates and sets past a hard quota; set once before start. */
    boolean enforceQuota;
    /** The newest record per path: what preparation sees instead of the tree. */
    private final Map<String, ChangeRecord> outstanding = new HashMap<>();
    /** Every record still outstanding or superseded but not yet applied, in the order they were made. */
    private final ArrayDeque<ChangeRecord> made = new ArrayDeque<>();
    private long lastSequence;
    /**
     * The node the last {@link #changeable} or {@link #recordOrNull} read from the tree (null when it read an
     * outstanding record or found nothing): handed to a set's or delete's request for its apply.
     */
    private DataNode treeNode;
    /** The node of the set or delete being prepared, as found in the tree (see {@link Request#node}). */
    private DataNode targetNode;
    /** While a multi is prepared: each touched path's record before the multi (null = none), to roll back a failure. */
    private Map<String, ChangeRecord> multiUndo;

    /** A preparer that refuses reconfig as Apache does by default (reconfigEnabled=false). */
    Preparer(DataTree tree, Map<Long, Session> sessions) {
        this(tree, sessions, new Reconfig(false, false));
    }

    /** How reconfig requests are judged (tests reach its hook through this). */
    Reconfig reconfig() {
        return reconfig;
    }

    Preparer(DataTree tree, Map<Long, Session> sessions, Reconfig reconfig) {
        this.tree = tree;
        this.sessions = sessions;
        this.reconfig = reconfig;
    }

    /** Forgets every outstanding change: the tree was replaced, or what was prepared will never be applied. */
    void clear() {
        outstanding.clear();
        made.clear();
    }

    /**
     * The transaction of the request prepared with {@code sequence} is in the tree, and so is every one prepared
     * before it (or they will never be): their change records are no longer needed.
     */
    void applied(long sequence) {
        while (!made.isEmpty() && made.peek().sequence <= sequence) {
            ChangeRecord record = made.poll();
            outstanding.remove(record.path, record); // identity: a newer record for the path stays
            record.replaced = null; // only withdraw() needs it; keeps a busy path's records from chaining forever
        }
    }

    /**
     * Takes back the newest preparation, {@code sequence}, whose transaction will never be applied (it could not be
     * proposed): its records give way to the ones they replaced, so later requests are checked as if it never was.
     */
    void withdraw(long sequence) {
        while (!made.isEmpty() && made.peekLast().sequence == sequence) {
            ChangeRecord record = made.pollLast();
            if (outstanding.get(record.path) == record) {
                if (record.replaced != null) {
                    outstanding.put(record.path, record.replaced);
                } else {
                    outstanding.remove(record.path);
                }
            }
            record.replaced = null;
        }
    }

    /** Outstanding records (newest per path), for tests and diagnostics. */
    int outstandingCount() {
        return outstanding.size();
    }

    /**
     * Fills in {@code request.header} and {@code request.txn} (an ErrorTxn when a check fails) and stamps
     * {@code request.prepareSequence}, to be passed to {@link #applied} once the transaction is in the tree.
     */
    void prepare(Request request, long zxid, long time, List<Id> authInfo) {
        int type = request.type;
        request.prepareSequence = ++lastSequence;
        targetNode = null;
        try {
            request.header = new TxnHeader(request.sessionId, request.xid, zxid, time, type);
            switch (type) {
                case OpCode.CREATE_SESSION -> request.txn = new CreateSessionTxn(request.negotiatedTimeout);
                case OpCode.CLOSE_SESSION -> request.txn = prepareCloseSession(request.sessionId);
                case OpCode.MULTI -> request.txn = prepareMulti(request, zxid, time, authInfo);
                case OpCode.RECONFIG -> {
                    reconfig.checkEnabled();
                    checkSession(request.sessionId);
                    request.txn = prepareReconfig((ReconfigRequest) request.body, authInfo);
                }
                default -> {
                    checkSession(request.sessionId);
                    request.txn = prepareOp(type, (JuteRecord) request.body, request.sessionId, zxid, time, authInfo);
                    if (type == OpCode.SET_DATA || type == OpCode.DELETE) {
                        request.node = targetNode;
                        request.nodeGeneration = tree.generation();
                    }
                }
            }
        } catch (ZkException e) {
            request.header = new TxnHeader(request.sessionId, request.xid, zxid, time, OpCode.ERROR);
            request.txn = new ErrorTxn(e.code());
        }
    }

    private void checkSession(long sessionId) throws ZkException {
        if (sessionId == 0) {
            return; // internal requests (container clean-up) run without a session
        }
        Session session = sessions.get(sessionId);
        if (session == null || session.closing) {
            throw new ZkException(KeeperCode.SESSION_EXPIRED);
        }
    }

    private JuteRecord prepareMulti(Request request, long zxid, long time, List<Id> authInfo) throws ZkException {
        checkSession(request.sessionId);
        @SuppressWarnings("unchecked")
        List<Request.Op> ops = (List<Request.Op>) request.body;
        int madeBefore = made.size();
        multiUndo = new HashMap<>();
        List<Txn> txns = new ArrayList<>(ops.size());
        boolean failed = false;
        try {
            for (Request.Op op : ops) {
                int type;
                JuteRecord txn;
                if (failed) {
                    type = OpCode.ERROR;
                    txn = new ErrorTxn(KeeperCode.RUNTIME_INCONSISTENCY.code());
                } else {
                    try {
                        txn = prepareOp(op.type(), op.request(), request.sessionId, zxid, time, authInfo);
                        type = op.type();
                    } catch (ZkException e) {
                        failed = true;
                        type = OpCode.ERROR;
                        txn = new ErrorTxn(e.code());
                        rollBack(madeBefore);
                    }
                }
                txns.add(new Txn(type, Jute.bytes(txn)));
            }
        } finally {
            multiUndo = null;
        }
        return new MultiTxn(txns);
    }

    /** Undoes the records of a multi whose operation failed: nothing of it takes effect. */
    private void rollBack(int madeBefore) {
        while (made.size() > madeBefore) {
            made.pollLast();
        }
        for (Map.Entry<String, ChangeRecord> before : multiUndo.entrySet()) {
            if (before.getValue() == null) {
                outstanding.remove(before.getKey());
            } else {
                outstanding.put(before.getKey(), before.getValue());
            }
        }
        multiUndo.clear();
    }

    /** Makes {@code record} the newest state of its path, stamped with the request being prepared. */
    private void put(ChangeRecord record) {
        if (multiUndo != null && !multiUndo.containsKey(record.path)) {
            multiUndo.put(record.path, outstanding.get(record.path));
        }
        record.sequence = lastSequence;
        record.replaced = outstanding.put(record.path, record);
        made.add(record);
    }

    private JuteRecord prepareOp(int type, JuteRecord body, long sessionId, long zxid, long time, List<Id> authInfo)
            throws ZkException {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL ->
                    prepareCreate(type, body, sessionId, zxid, authInfo);
            case OpCode.DELETE -> prepareDelete((DeleteRequest) body, authInfo);
            case OpCode.DELETE_CONTAINER -> prepareDeleteContainer(((DeleteRequest) body).path());
            case OpCode.SET_DATA -> prepareSetData((SetDataRequest) body, authInfo);
            case OpCode.SET_ACL -> prepareSetAcl((SetACLRequest) body, authInfo);
            case OpCode.CHECK -> prepareCheck((CheckVersionRequest) body, authInfo);
            default -> throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        };
    }

    private JuteRecord prepareCreate(int type, JuteRecord body, long sessionId, long zxid, List<Id> authInfo)
            throws ZkException {
        String path;
        byte[] data;
        List<ACL> acl;
        int flags;
        long ttl;
        if (type == OpCode.CREATE_TTL) {
            CreateTTLRequest create = (CreateTTLRequest) body;
            path = create.path();
            data = create.data();
            acl = create.acl();
            flags = create.flags();
            ttl = create.ttl();
        } else {
            CreateRequest create = (CreateRequest) body;
            path = create.path();
            data = create.data();
            acl = create.acl();
            flags = create.flags();
            ttl = -1;
        }
        if (flags < 0 || flags > MODE_MAX) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
        }
        boolean ephemeral = flags == 1 || flags == 3;
        boolean sequential = flags == 2 || flags == 3 || flags == 6;
        boolean container = flags == 4;
        boolean withTtl = flags == 5 || flags == 6;
        if (withTtl) {
            if (!EphemeralOwner.isValidTtl(ttl)) {
                throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
            }
        } else if (ttl >= 0) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
        }
        int lastSlash = path == null ? -1 : path.lastIndexOf('/');
        if (lastSlash == -1 || path.indexOf('\0') != -1) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
        }
        String parentPath = path.substring(0, lastSlash);
        List<ACL> fixedAcl = Acls.fixup(path, authInfo, acl, security);
        ChangeRecord parent = record(parentPath);
        Acls.check(parent.acl, Perms.CREATE, authInfo);
        int parentCVersion = parent.cversion;
        if (sequential) {
            path = path + String.format(Locale.ENGLISH, "%010d", parentCVersion);
        }
        validatePath(path);
        if (exists(path)) {
            throw new ZkException(KeeperCode.NODE_EXISTS, path);
        }
        if (EphemeralOwner.isSession(parent.ephemeralOwner)) {
            throw new ZkException(KeeperCode.NO_CHILDREN_FOR_EPHEMERALS, path);
        }
        int newCversion = parent.cversion + 1;
        if (enforceQuota) {
            // Where Apache's PrepRequestProcessor checks it: after the ACL and existence checks.
            tree.quotas.check(path, data == null ? 0 : data.length, 1);
        }
        JuteRecord txn;
        long owner;
        if (type == OpCode.CREATE_CONTAINER) {
            txn = new CreateContainerTxn(path, data, fixedAcl, newCversion);
        } else if (type == OpCode.CREATE_TTL) {
            txn = new CreateTTLTxn(path, data, fixedAcl, newCversion, ttl);
        } else {
            txn = new CreateTxn(path, data, fixedAcl, ephemeral, newCversion);
        }
        if (container) {
            owner = EphemeralOwner.CONTAINER;
        } else if (withTtl) {
            owner = EphemeralOwner.ofTtl(ttl);
        } else {
            owner = ephemeral ? sessionId : 0;
        }
        ChangeRecord newParent = parent.copy();
        newParent.childCount++;
        newParent.cversion = newCversion;
        put(newParent);
        put(ChangeRecord.created(path, owner, fixedAcl));
        return txn;
    }

    private JuteRecord prepareDelete(DeleteRequest delete, List<Id> authInfo) throws ZkException {
        String path = delete.path();
        String parentPath = parentPathForDelete(path);
        ChangeRecord parent = record(parentPath);
        Acls.check(parent.acl, Perms.DELETE, authInfo);
        ChangeRecord node = record(path);
        targetNode = treeNode;
        checkVersion(node.version, delete.version(), path);
        if (node.childCount > 0) {
            throw new ZkException(KeeperCode.NOT_EMPTY, path);
        }
        recordDeletion(parent, parentPath, path);
        return new DeleteTxn(path);
    }

    private JuteRecord prepareDeleteContainer(String path) throws ZkException {
        String parentPath = parentPathForDelete(path);
        ChangeRecord node = record(path);
        if (node.childCount > 0) {
            throw new ZkException(KeeperCode.NOT_EMPTY, path);
        }
        if (EphemeralOwner.isSession(node.ephemeralOwner)) {
            throw new ZkException(KeeperCode.BAD_VERSION, path);
        }
        ChangeRecord parent = record(parentPath);
        recordDeletion(parent, parentPath, path);
        return new DeleteTxn(path);
    }

    private void recordDeletion(ChangeRecord parent, String parentPath, String path) {
        ChangeRecord newParent = parent.copy();
        newParent.childCount--;
        put(newParent);
        put(ChangeRecord.deletion(path));
    }

    private static String parentPathForDelete(String path) throws ZkException {
        int lastSlash = path == null ? -1 : path.lastIndexOf('/');
        if (lastSlash == -1 || path.indexOf('\0') != -1 || DataTree.isSpecialPath(path)) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
        }
        return path.substring(0, lastSlash);
    }

    private JuteRecord prepareSetData(SetDataRequest set, List<Id> authInfo) throws ZkException {
        String path = set.path();
        validatePath(path);
        ChangeRecord changed = changeable(path);
        targetNode = treeNode;
        Acls.check(changed.acl, Perms.WRITE, authInfo);
        if (enforceQuota) {
            // Against the committed data's length: Apache compares with its change record's data, which differs only
            // while an earlier set of the same node is still in flight; its stats are the committed ones in both.
            DataNode committed = tree.getNode(path);
            int lastLength = committed == null ? 0 : committed.dataLength();
            tree.quotas.check(path, (set.data() == null ? 0 : set.data().length) - (long) lastLength, 0);
        }
        changed.version = checkVersion(changed.version, set.version(), path);
        int newVersion = changed.version;
        put(changed);
        return new SetDataTxn(path, set.data(), newVersion);
    }

    /**
     * A reconfig judged against the committed configuration; while its record is outstanding, the next reconfig is
     * told one is in progress (Apache compares its last-seen and committed configurations).
     */
    private JuteRecord prepareReconfig(ReconfigRequest request, List<Id> authInfo) throws ZkException {
        ChangeRecord node = record(SpecialPaths.CONFIG);
        DataNode committed = tree.getNode(SpecialPaths.CONFIG);
        SetDataTxn txn = reconfig.prepare(request, EnsembleConfig.parse(committed.data()),
                outstanding.containsKey(SpecialPaths.CONFIG), node.acl, authInfo);
        ChangeRecord changed = node.copy();
        changed.version = -1; // Apache's reconfig sets the znode's version to -1
        put(changed);
        return txn;
    }

    private JuteRecord prepareSetAcl(SetACLRequest set, List<Id> authInfo) throws ZkException {
        String path = set.path();
        validatePath(path);
        List<ACL> fixedAcl = Acls.fixup(path, authInfo, set.acl(), security);
        ChangeRecord changed = changeable(path);
        Acls.check(changed.acl, Perms.ADMIN, authInfo);
        int newVersion = checkVersion(changed.aversion, set.version(), path);
        changed.aversion = newVersion;
        changed.acl = fixedAcl;
        put(changed);
        return new SetACLTxn(path, fixedAcl, newVersion);
    }

    private JuteRecord prepareCheck(CheckVersionRequest check, List<Id> authInfo) throws ZkException {
        String path = check.path();
        validatePath(path);
        ChangeRecord node = record(path);
        Acls.check(node.acl, Perms.READ, authInfo);
        return new CheckVersionTxn(path, checkVersion(node.version, check.version(), path));
    }

    private JuteRecord prepareCloseSession(long sessionId) {
        Set<String> paths = new HashSet<>(tree.ephemeralsOf(sessionId));
        for (ChangeRecord change : outstanding.values()) {
            if (change.deleted) {
                paths.remove(change.path);
            } else if (change.ephemeralOwner == sessionId) {
                paths.add(change.path);
            }
        }
        for (String path : paths) {
            put(ChangeRecord.deletion(path));
        }
        Session session = sessions.get(sessionId);
        if (session != null) {
            session.closing = true;
        }
        return new CloseSessionTxn(new ArrayList<>(paths));
    }

    /** Apache's PathUtils.validatePath (zk-wire's {@link PathValidation}); a violation is BadArguments. */
    private static void validatePath(String path) throws ZkException {
        if (!PathValidation.isValid(path)) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
        }
    }

    private static int checkVersion(int current, int expected, String path) throws ZkException {
        if (expected != -1 && expected != current) {
            throw new ZkException(KeeperCode.BAD_VERSION, path);
        }
        return current + 1;
    }

    private ChangeRecord record(String path) throws ZkException {
        ChangeRecord record = recordOrNull(path);
        if (record == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        return record;
    }

    /**
     * The record of {@code path} to change and then {@link #put}: a copy of the outstanding one (earlier preparations
     * still hold it), or one read fresh from the tree, which nothing else holds and so needs no copy.
     */
    private ChangeRecord changeable(String path) throws ZkException {
        treeNode = null;
        ChangeRecord change = outstanding.get(path);
        if (change != null) {
            if (change.deleted) {
                throw new ZkException(KeeperCode.NO_NODE, path);
            }
            return change.copy();
        }
        DataNode node = tree.getNode(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        treeNode = node;
        return ChangeRecord.of(path, node);
    }

    /** Whether {@code path} exists once everything prepared takes effect, without making a record for it. */
    private boolean exists(String path) {
        ChangeRecord change = outstanding.get(path);
        if (change != null) {
            return !change.deleted;
        }
        return tree.getNode(path) != null;
    }

    private ChangeRecord recordOrNull(String path) {
        treeNode = null;
        ChangeRecord change = outstanding.get(path);
        if (change != null) {
            return change.deleted ? null : change;
        }
        DataNode node = tree.getNode(path);
        treeNode = node;
        return node == null ? null : ChangeRecord.of(path, node);
    }
}
