package io.tandem.server.zookeeper;

import io.tandem.zk.wire.AddWatchMode;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.ClientInfo;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.CheckWatchesRequest;
import io.tandem.zk.wire.proto.ErrorResponse;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.ExistsResponse;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetACLResponse;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberResponse;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildren2Response;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetChildrenResponse;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.GetEphemeralsResponse;
import io.tandem.zk.wire.proto.MultiHeader;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.SyncRequest;
import io.tandem.zk.wire.proto.SyncResponse;
import io.tandem.zk.wire.proto.WhoAmIResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs reads on the commit thread against the applied tree (Apache's FinalRequestProcessor for reads): ACL checks as
 * Apache 3.9 makes them, watch registration, multiRead, and the requests that only manage watches.
 */
final class ReadExecutor {
    private final DataTree tree;
    private final Map<Long, Session> sessions;

    ReadExecutor(DataTree tree, Map<Long, Session> sessions) {
        this.tree = tree;
        this.sessions = sessions;
    }

    /**
     * The answer to a read (or to a request with nothing to apply: ping, setWatches, watch management, sync once its
     * marker is back), from the tree as it is now; a failed check throws with its error code, a watch past the
     * watch limits with {@link WatchBytes.Exceeded} (not answered: the connection is closed).
     */
    JuteRecord execute(Request request) throws ZkException {
        ServerConnection connection = request.connection;
        List<Id> auth = connection.authInfo;
        Session session = sessions.get(request.sessionId);
        if (request.type != Request.KIND_UNKNOWN && (session == null || session.closing)) {
            throw new ZkException(KeeperCode.SESSION_EXPIRED);
        }
        switch (request.type) {
            case OpCode.PING, OpCode.SET_WATCHES, OpCode.SET_WATCHES2 -> {
                // Past the watch limits WatchBytes.Exceeded goes to the Responder, which closes the connection.
                if (request.body instanceof SetWatches set) {
                    tree.watches.setWatches(set.relativeZxid(), set.dataWatches(), set.existWatches(),
                            set.childWatches(), null, null, connection);
                } else if (request.body instanceof SetWatches2 set) {
                    tree.watches.setWatches(set.relativeZxid(), set.dataWatches(), set.existWatches(),
                            set.childWatches(), set.persistentWatches(), set.persistentRecursiveWatches(),
                            connection);
                }
                return null;
            }
            case OpCode.EXISTS -> {
                ExistsRequest exists = (ExistsRequest) request.body;
                String path = exists.path();
                if (path == null || path.indexOf('\0') != -1) {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
                }
                DataNode node = tree.getNode(path);
                if (node != null) {
                    // Apache 3.9 checks READ on an existing node before it registers the watch.
                    Acls.check(node.acl, Perms.READ, auth);
                }
                if (exists.watch()) {
                    tree.watches.addDataWatch(path, connection);
                }
                if (node == null) {
                    throw new ZkException(KeeperCode.NO_NODE, path);
                }
                tree.namespaces.read(path, 0);
                return new ExistsResponse(node.stat());
            }
            case OpCode.GET_DATA -> {
                GetDataRequest get = (GetDataRequest) request.body;
                return getData(get.path(), get.watch(), connection, auth);
            }
            case OpCode.GET_CHILDREN -> {
                GetChildrenRequest get = (GetChildrenRequest) request.body;
                return new GetChildrenResponse(getChildren(get.path(), get.watch(), connection, auth));
            }
            case OpCode.GET_CHILDREN2 -> {
                GetChildren2Request get = (GetChildren2Request) request.body;
                List<String> children = getChildren(get.path(), get.watch(), connection, auth);
                return new GetChildren2Response(children, tree.getNode(get.path()).stat());
            }
            case OpCode.GET_ACL -> {
                String path = ((GetACLRequest) request.body).path();
                DataNode node = node(path);
                Acls.check(node.acl, Perms.READ | Perms.ADMIN, auth);
                try {
                    Acls.check(node.acl, Perms.ADMIN, auth);
                    return new GetACLResponse(node.acl, node.stat());
                } catch (ZkException e) {
                    // Without ADMIN the digest hashes are masked, as Apache does since 3.6.
                    List<ACL> masked = new ArrayList<>(node.acl.size());
                    for (ACL acl : node.acl) {
                        masked.add(acl.id().scheme().equals("digest")
                                ? new ACL(acl.perms(), new Id("digest", acl.id().id().replaceAll(":.*", ":x")))
                                : acl);
                    }
                    return new GetACLResponse(masked, node.stat());
                }
            }
            case OpCode.GET_ALL_CHILDREN_NUMBER -> {
                String path = ((GetAllChildrenNumberRequest) request.body).path();
                DataNode node = node(path);
                Acls.check(node.acl, Perms.READ, auth);
                return new GetAllChildrenNumberResponse(tree.allChildrenNumber(path));
            }
            case OpCode.GET_EPHEMERALS -> {
                String prefix = ((GetEphemeralsRequest) request.body).prefixPath();
                List<String> result = new ArrayList<>();
                for (String path : tree.ephemeralsOf(request.sessionId)) {
                    if (prefix == null || prefix.isBlank() || prefix.trim().equals("/") || path.startsWith(prefix)) {
                        result.add(path);
                    }
                }
                return new GetEphemeralsResponse(result);
            }
            case OpCode.SYNC -> {
                return new SyncResponse(((SyncRequest) request.body).path());
            }
            case OpCode.CHECK_WATCHES, OpCode.REMOVE_WATCHES -> {
                String path;
                int watcherType;
                if (request.body instanceof CheckWatchesRequest check) {
                    path = check.path();
                    watcherType = check.type();
                } else {
                    RemoveWatchesRequest remove = (RemoveWatchesRequest) request.body;
                    path = remove.path();
                    watcherType = remove.type();
                }
                if (!tree.watches.removeWatch(path, watcherType, connection, request.type == OpCode.CHECK_WATCHES)) {
                    throw new ZkException(KeeperCode.NO_WATCHER, path);
                }
                return null;
            }
            case OpCode.ADD_WATCH -> {
                AddWatchRequest add = (AddWatchRequest) request.body;
                AddWatchMode mode = AddWatchMode.fromCode(add.mode());
                if (mode == null) {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS, add.path());
                }
                tree.watches.addPersistentWatch(add.path(), connection, mode == AddWatchMode.PERSISTENT_RECURSIVE);
                return new ErrorResponse(0);
            }
            case OpCode.WHO_AM_I -> {
                List<ClientInfo> infos = new ArrayList<>();
                for (Id id : auth) {
                    infos.add(new ClientInfo(id.scheme(), Acls.userName(id)));
                }
                return new WhoAmIResponse(infos);
            }
            case OpCode.MULTI_READ -> {
                @SuppressWarnings("unchecked")
                List<Request.Op> ops = (List<Request.Op>) request.body;
                return multiRead(ops, connection, auth);
            }
            case Request.KIND_UNKNOWN -> throw new ZkException(KeeperCode.UNIMPLEMENTED);
            case Request.KIND_FAULT -> throw new ZkException((KeeperCode) request.body);
            default -> throw new ZkException(KeeperCode.UNIMPLEMENTED);
        }
    }

    private DataNode node(String path) throws ZkException {
        DataNode node = path == null ? null : tree.getNode(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        return node;
    }

    private GetDataResponse getData(String path, boolean watch, ServerConnection connection, List<Id> auth)
            throws ZkException {
        DataNode node = node(path);
        Acls.check(node.acl, Perms.READ, auth);
        if (watch) {
            tree.watches.addDataWatch(path, connection);
        }
        byte[] data = node.data();
        tree.namespaces.read(path, data == null ? 0 : data.length);
        return new GetDataResponse(data, node.stat());
    }

    private List<String> getChildren(String path, boolean watch, ServerConnection connection, List<Id> auth)
            throws ZkException {
        DataNode node = node(path);
        Acls.check(node.acl, Perms.READ, auth);
        List<String> children = new ArrayList<>(node.children());
        if (watch) {
            tree.watches.addChildWatch(path, connection);
        }
        long nameBytes = 0;
        for (String child : children) nameBytes += child.length();
        tree.namespaces.read(path, nameBytes);
        return children;
    }

    private JuteRecord multiRead(List<Request.Op> ops, ServerConnection connection, List<Id> auth) {
        List<JuteRecord> results = new ArrayList<>(ops.size());
        List<Integer> types = new ArrayList<>(ops.size());
        for (Request.Op op : ops) {
            try {
                if (op.request() instanceof GetChildrenRequest get) {
                    results.add(new GetChildrenResponse(getChildren(get.path(), get.watch(), connection, auth)));
                    types.add(OpCode.GET_CHILDREN);
                } else if (op.request() instanceof GetDataRequest get) {
                    results.add(getData(get.path(), get.watch(), connection, auth));
                    types.add(OpCode.GET_DATA);
                } else {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS);
                }
            } catch (ZkException e) {
                results.add(new ErrorResponse(e.code()));
                types.add(OpCode.ERROR);
            }
        }
        return out -> {
            for (int i = 0; i < results.size(); i++) {
                int type = types.get(i);
                new MultiHeader(type, false, type == OpCode.ERROR ? ((ErrorResponse) results.get(i)).err() : 0)
                        .write(out);
                results.get(i).write(out);
            }
            new MultiHeader(-1, true, -1).write(out);
        };
    }
}
