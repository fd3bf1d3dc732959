package io.tandem.zk.client;

import io.tandem.zk.wire.SpecialPaths;
import io.tandem.zk.wire.AddWatchMode;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteLimits;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.PathValidation;
import io.tandem.zk.wire.WatcherType;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.ClientInfo;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.Create2Response;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetACLResponse;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildren2Response;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetChildrenResponse;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberResponse;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.GetEphemeralsResponse;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.MultiResponse;
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetACLResponse;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.proto.SyncRequest;
import io.tandem.zk.wire.proto.WhoAmIResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * A small asynchronous ZooKeeper client on Netty, speaking the 3.9 client protocol with our zk-wire records.
 *
 * <p>What it does, as Apache's client does: tries the hosts of the connect string in turn (shuffled), performs the
 * handshake and adopts the negotiated session timeout, pings after a third of it without traffic and drops a connection
 * silent for two thirds of it, re-attaches the same session (id + password) on reconnect and re-registers its watches
 * with setWatches, matches replies to requests by xid order, delivers one-shot watch notifications and connection state
 * changes to one {@link Watcher}, and reports session expiry.
 *
 * <p>Threading: all connection and session state lives on one Netty event loop thread. Futures are completed, and
 * events delivered, on one separate callback thread, in the order the server sent them: a watch event is seen before
 * the result of a read issued after the change, as ZooKeeper guarantees. Callbacks must not block on another future
 * of this client (use the async continuation methods instead).
 *
 * <p>Requests that were sent when a connection is lost fail with CONNECTION_LOSS (whether they took effect is unknown,
 * exactly as with Apache's client); requests not yet sent wait for the next connection. After session expiry or
 * {@link #close()} every request fails with SESSION_EXPIRED.
 */
public final class ZkClient implements AutoCloseable {
    private final RequestPaths paths;
    private final ClientSession session;

    private ZkClient(Builder builder) {
        ConnectString connectString = ConnectString.parse(builder.connectString);
        this.paths = new RequestPaths(connectString);
        this.session = new ClientSession(builder, connectString, paths);
    }

    public static Builder builder(String connectString) {
        return new Builder(connectString);
    }

    /** Connects with default settings; state changes and watch events go to {@code watcher}. */
    public static ZkClient connect(String connectString, Duration sessionTimeout, Watcher watcher) {
        return builder(connectString).sessionTimeout(sessionTimeout).watcher(watcher).build();
    }

    /**
     * Completes when the first session is established (and, with {@link Builder#sasl}, logged in); fails if it
     * expires, the login is refused (AUTH_FAILED) or the client closes first.
     */
    public CompletableFuture<Void> connected() {
        return session.firstConnection();
    }

    /** The session id, 0 before the first handshake. Read from any thread; set on the I/O thread. */
    public long sessionId() {
        return session.sessionId();
    }

    public byte[] sessionPassword() {
        return session.sessionPassword();
    }

    /** The session timeout the server granted, 0 before the first handshake. */
    public int negotiatedSessionTimeoutMs() {
        return session.negotiatedSessionTimeoutMs();
    }

    /**
     * Why the last attempt to connect failed (a refused connection, a failed TLS handshake naming its cause), or null:
     * what a caller that gave up waiting for {@link #connected()} can tell its user.
     */
    public String lastConnectFailure() {
        return session.lastConnectFailure();
    }

    /** The address of the server currently connected to, or null. */
    public InetSocketAddress connectedServer() {
        return session.connectedServer();
    }

    // ------------------------------------------------------------------ operations

    /** Creates a node and returns its path (with the sequence suffix for sequential modes). */
    public CompletableFuture<String> create(String path, byte[] data, List<ACL> acl, CreateMode mode) {
        if (mode.isTtl()) {
            throw new IllegalArgumentException("a TTL node needs create2 with a ttl");
        }
        PathValidation.requireValid(path, mode.isSequential());
        int opCode = mode.isContainer() ? OpCode.CREATE_CONTAINER : OpCode.CREATE;
        // A container create is answered with a Create2Response; its path comes first, which is all we read here.
        return session.submit(opCode, path, new CreateRequest(paths.toServer(path), data, acl, mode.flag()),
                in -> paths.toClient(CreateResponse.read(in).path()), null);
    }

    /** Creates a node and returns its path and Stat (the op Curator uses for every create). */
    public CompletableFuture<Created> create2(String path, byte[] data, List<ACL> acl, CreateMode mode) {
        if (mode.isTtl()) {
            throw new IllegalArgumentException("a TTL node needs a ttl: use create2(path, data, acl, mode, ttl)");
        }
        PathValidation.requireValid(path, mode.isSequential());
        int opCode = mode.isContainer() ? OpCode.CREATE_CONTAINER : OpCode.CREATE2;
        return session.submit(opCode, path, new CreateRequest(paths.toServer(path), data, acl, mode.flag()),
                this::readCreated, null);
    }

    /** Creates a TTL node ({@link CreateMode#PERSISTENT_WITH_TTL} or its sequential variant). */
    public CompletableFuture<Created> create2(String path, byte[] data, List<ACL> acl, CreateMode mode, long ttlMs) {
        if (!mode.isTtl()) {
            return create2(path, data, acl, mode);
        }
        PathValidation.requireValid(path, mode.isSequential());
        return session.submit(OpCode.CREATE_TTL, path,
                new CreateTTLRequest(paths.toServer(path), data, acl, mode.flag(), ttlMs),
                this::readCreated, null);
    }

    public CompletableFuture<Void> delete(String path, int version) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.DELETE, path, new DeleteRequest(paths.toServer(path), version), in -> null, null);
    }

    /** The node's Stat, or null when it does not exist; a watch fires on creation, change or deletion. */
    public CompletableFuture<Stat> exists(String path, boolean watch) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.EXISTS, path, new ExistsRequest(paths.toServer(path), watch), Stat::read,
                watch ? ClientWatches.Kind.EXISTS : null);
    }

    public CompletableFuture<NodeData> getData(String path, boolean watch) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.GET_DATA, path, new GetDataRequest(paths.toServer(path), watch), in -> {
            GetDataResponse response = GetDataResponse.read(in);
            return new NodeData(response.data(), response.stat());
        }, watch ? ClientWatches.Kind.DATA : null);
    }

    public CompletableFuture<Stat> setData(String path, byte[] data, int version) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.SET_DATA, path, new SetDataRequest(paths.toServer(path), data, version),
                in -> SetDataResponse.read(in).stat(), null);
    }

    public CompletableFuture<List<String>> getChildren(String path, boolean watch) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.GET_CHILDREN, path, new GetChildrenRequest(paths.toServer(path), watch),
                in -> GetChildrenResponse.read(in).children(), watch ? ClientWatches.Kind.CHILDREN : null);
    }

    public CompletableFuture<Children> getChildren2(String path, boolean watch) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.GET_CHILDREN2, path, new GetChildren2Request(paths.toServer(path), watch), in -> {
            GetChildren2Response response = GetChildren2Response.read(in);
            return new Children(response.children(), response.stat());
        }, watch ? ClientWatches.Kind.CHILDREN : null);
    }

    public CompletableFuture<Acl> getAcl(String path) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.GET_ACL, path, new GetACLRequest(paths.toServer(path)), in -> {
            GetACLResponse response = GetACLResponse.read(in);
            return new Acl(response.acl(), response.stat());
        }, null);
    }

    public CompletableFuture<Stat> setAcl(String path, List<ACL> acl, int version) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.SET_ACL, path, new SetACLRequest(paths.toServer(path), acl, version),
                in -> SetACLResponse.read(in).stat(), null);
    }

    /** Waits until the server this client is connected to has caught up with the leader for {@code path}. */
    public CompletableFuture<Void> sync(String path) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.SYNC, path, new SyncRequest(paths.toServer(path)), in -> null, null);
    }

    /**
     * The paths of the ephemeral nodes this session owns under {@code prefixPath} ("/" for all), as the server
     * lists them: Apache's client neither strips a chroot from them nor orders them, and neither does this one.
     */
    public CompletableFuture<List<String>> getEphemerals(String prefixPath) {
        PathValidation.requireValid(prefixPath);
        return session.submit(OpCode.GET_EPHEMERALS, prefixPath, new GetEphemeralsRequest(paths.toServer(prefixPath)),
                in -> GetEphemeralsResponse.read(in).ephemerals(), null);
    }

    /** How many nodes lie below {@code path} (every descendant, not only its children; the node not counted). */
    public CompletableFuture<Integer> getAllChildrenNumber(String path) {
        PathValidation.requireValid(path);
        return session.submit(OpCode.GET_ALL_CHILDREN_NUMBER, path,
                new GetAllChildrenNumberRequest(paths.toServer(path)),
                in -> GetAllChildrenNumberResponse.read(in).totalNumber(), null);
    }

    /** Who the server takes this session for: one entry per authentication (scheme, user); ZooKeeper 3.9's whoAmI. */
    public CompletableFuture<List<ClientInfo>> whoAmI() {
        // The request is a header alone, as Apache's client sends it.
        return session.submit(OpCode.WHO_AM_I, null, null, in -> WhoAmIResponse.read(in).clientInfo(), null);
    }

    /**
     * Sets a persistent watch on {@code path} (ZooKeeper 3.6+): {@link AddWatchMode#PERSISTENT} reports the node's
     * data changes, creation, deletion and child list changes; {@link AddWatchMode#PERSISTENT_RECURSIVE} reports
     * creation, deletion and data changes of the node and of every node below it. Events go to the client's
     * {@link Watcher} until the session ends; after a reconnect the client sets them again with setWatches2.
     */
    public CompletableFuture<Void> addWatch(String path, AddWatchMode mode) {
        PathValidation.requireValid(path);
        ClientWatches.Kind kind = mode == AddWatchMode.PERSISTENT ? ClientWatches.Kind.PERSISTENT
                : ClientWatches.Kind.PERSISTENT_RECURSIVE;
        return session.submit(OpCode.ADD_WATCH, path, new AddWatchRequest(paths.toServer(path), mode.code()),
                in -> null, kind);
    }

    /**
     * Adds credentials to the session ({@code addauth} in zkCli): an auth packet, sent at once when connected and
     * again after every reconnection, as Apache's client does. It is not answered on success; the server refusing it
     * ends the session with AUTH_FAILED (every later request fails so).
     */
    public void addAuthInfo(String scheme, byte[] auth) {
        Objects.requireNonNull(scheme, "scheme");
        session.addAuth(new AuthPacket(0, scheme, auth == null ? new byte[0] : auth.clone()));
    }

    /**
     * Removes this client's watches of {@code type} on {@code path} (ZooKeeper 3.5+; zkCli's removewatches): fails
     * with NO_WATCHER when the client holds none, without asking the server; else the watcher gets a
     * DataWatchRemoved / ChildWatchRemoved / PersistentWatchRemoved event per kind removed. With {@code local} the
     * watches go here even if the server cannot be asked or refuses.
     */
    public CompletableFuture<Void> removeWatches(String path, WatcherType type, boolean local) {
        PathValidation.requireValid(path);
        Objects.requireNonNull(type, "type");
        return session.removeWatches(path, paths.toServer(path), type, local);
    }

    /**
     * The ensemble's dynamic configuration: the data and Stat of {@code /zookeeper/config}, read outside any chroot
     * as Apache's getConfig does.
     */
    public CompletableFuture<NodeData> getConfig(boolean watch) {
        return session.submit(OpCode.GET_DATA, SpecialPaths.CONFIG, new GetDataRequest(SpecialPaths.CONFIG, watch), in -> {
            GetDataResponse response = GetDataResponse.read(in);
            return new NodeData(response.data(), response.stat());
        }, watch ? ClientWatches.Kind.DATA : null);
    }

    /**
     * Changes the ensemble's membership (ZooKeeper 3.5+ reconfig): incrementally ({@code joining} servers as
     * {@code server.N=host:port:port[:role];clientPort} lines joined by commas, {@code leaving} server ids by commas)
     * or wholesale ({@code newMembers}), when the configuration's version is still {@code fromConfig} (-1: any).
     * Answers the new configuration's data and Stat.
     */
    public CompletableFuture<NodeData> reconfig(String joining, String leaving, String newMembers, long fromConfig) {
        return session.submit(OpCode.RECONFIG, SpecialPaths.CONFIG, new ReconfigRequest(joining, leaving, newMembers,
                fromConfig), in -> {
                    GetDataResponse response = GetDataResponse.read(in);
                    return new NodeData(response.data(), response.stat());
                }, null);
    }

    /**
     * Runs the operations atomically (all write ops) or as one batched read (all getData/getChildren ops, sent as
     * multiRead). Completes with every result; fails with a {@link ZkException} carrying the results when one operation
     * failed, as Apache's client does.
     */
    public CompletableFuture<List<OpResult>> multi(List<MultiRequest.Op> ops) {
        boolean reads = !ops.isEmpty() && ops.stream().allMatch(op -> op.type() == OpCode.GET_DATA
                || op.type() == OpCode.GET_CHILDREN);
        boolean anyRead = ops.stream().anyMatch(op -> op.type() == OpCode.GET_DATA
                || op.type() == OpCode.GET_CHILDREN);
        if (anyRead && !reads) {
            throw new IllegalArgumentException("a multi cannot mix reads and writes");
        }
        List<MultiRequest.Op> serverOps = new ArrayList<>(ops.size());
        for (MultiRequest.Op op : ops) {
            PathValidation.requireValid(op.path(), RequestPaths.isSequentialCreate(op));
            serverOps.add(paths.toServer(op));
        }
        int opCode = reads ? OpCode.MULTI_READ : OpCode.MULTI;
        CompletableFuture<List<OpResult>> result = new CompletableFuture<>();
        CompletableFuture<MultiResponse> sent =
                session.submit(opCode, null, new MultiRequest(serverOps), MultiResponse::read, null);
        sent.whenComplete((response, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            List<OpResult> results = new ArrayList<>(response.results().size());
            OpResult firstFailure = null;
            int failedIndex = -1;
            for (OpResult opResult : response.results()) {
                results.add(paths.toClient(opResult));
                if (!reads && opResult.isError() && opResult.err() != 0 && firstFailure == null) {
                    firstFailure = opResult;
                    failedIndex = results.size() - 1;
                }
            }
            if (firstFailure != null) {
                String failedPath = failedIndex < ops.size() ? ops.get(failedIndex).path() : null;
                result.completeExceptionally(new ZkException(firstFailure.err(), failedPath, List.copyOf(results)));
            } else {
                result.complete(List.copyOf(results));
            }
        });
        return result;
    }

    /** Closes the session on the server (waiting briefly for its answer) and releases the client's threads. */
    public CompletableFuture<Void> closeAsync() {
        return session.closeAsync();
    }

    @Override
    public void close() {
        closeAsync().join();
    }

    private Created readCreated(JuteInput in) {
        Create2Response response = Create2Response.read(in);
        return new Created(paths.toClient(response.path()), response.stat());
    }

    // ------------------------------------------------------------------ results and builder

    /** Result of create2: the created path and the new node's Stat. */
    public record Created(String path, Stat stat) {
    }

    /** Result of getData. */
    public record NodeData(byte[] data, Stat stat) {
    }

    /** Result of getChildren2. */
    public record Children(List<String> children, Stat stat) {
    }

    /** Result of getACL. */
    public record Acl(List<ACL> acl, Stat stat) {
    }

    /** Settings of a client; {@link #build()} starts connecting. */
    public static final class Builder {
        final String connectString;
        Duration sessionTimeout = Duration.ofSeconds(30);
        Watcher watcher;
        Runnable sessionExpiredListener;
        int pendingRequestsMax = 10_000;
        int frameBytesMax = JuteLimits.FRAME_BYTES_MAX_DEFAULT;
        long sessionId;
        byte[] sessionPassword;
        SaslLogin saslLogin;
        ClientTls tls;

        private Builder(String connectString) {
            this.connectString = Objects.requireNonNull(connectString, "connectString");
        }

        /** The session timeout to ask for; the server clamps it to [2, 20] x tickTime. */
        public Builder sessionTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("session timeout out of range: " + timeout);
            }
            this.sessionTimeout = timeout;
            return this;
        }

        public Builder watcher(Watcher watcher) {
            this.watcher = watcher;
            return this;
        }

        /** Runs on the callback thread once the server reports the session expired; the client is then closed. */
        public Builder onSessionExpired(Runnable listener) {
            this.sessionExpiredListener = listener;
            return this;
        }

        /** Bound on queued plus in-flight requests; beyond it requests fail with RejectedExecutionException. */
        public Builder pendingRequestsMax(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("pendingRequestsMax must be positive: " + max);
            }
            this.pendingRequestsMax = max;
            return this;
        }

        /** Largest reply frame accepted (the client side's jute.maxbuffer). */
        public Builder frameBytesMax(int max) {
            this.frameBytesMax = max;
            return this;
        }

        /**
         * Authenticates with SASL (DIGEST-MD5 or GSSAPI, see {@link SaslLogin}) on every connection before any
         * request goes, as Apache's client does with a JAAS client section. {@link ZkClient#connected()} then
         * completes once the login succeeded, and a refused login fails every request with AUTHFAILED and ends the
         * client (Apache's AUTH_FAILED state).
         */
        public Builder sasl(SaslLogin login) {
            this.saslLogin = login;
            return this;
        }

        /** Speaks TLS on every connection (a server's secureClientPort), with an engine from {@code tls}. */
        public Builder tls(ClientTls tls) {
            this.tls = tls;
            return this;
        }

        /** Re-attaches an existing session instead of creating one. */
        public Builder session(long sessionId, byte[] sessionPassword) {
            if (sessionPassword == null || sessionPassword.length != ClientSession.SESSION_PASSWORD_BYTES) {
                throw new IllegalArgumentException(
                        "a session password has " + ClientSession.SESSION_PASSWORD_BYTES + " bytes");
            }
            this.sessionId = sessionId;
            this.sessionPassword = sessionPassword.clone();
            return this;
        }

        public ZkClient build() {
            return new ZkClient(this);
        }
    }
}
