package io.tandem.server.kafka.metadata;

import io.tandem.zk.client.SaslLogin;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The broker's metadata in a real ZooKeeper ensemble (Tandem's own or Apache's) through our {@link ZkClient}.
 * Ephemeral nodes (the broker registration, /controller) live as long as the client's session. When ZooKeeper
 * expires the session (a partition or pause longer than the session timeout), the store opens a new one, retrying
 * until it succeeds, and then tells its listener, which re-creates the ephemerals: what Kafka's ZooKeeperClient and
 * KafkaController do on session expiry. Operations in between fail with SESSION_EXPIRED. Its standing watches,
 * armed again on each new session, are kept by {@link ZkWatches}.
 */
public final class ZkZnodeStore implements ZnodeStore {
    private static final System.Logger LOG = System.getLogger(ZkZnodeStore.class.getName());
    /** How long one metadata operation may wait for ZooKeeper before the request that needed it fails. */
    static final long OPERATION_TIMEOUT_MS = 30_000;
    /** Pause between attempts to open a new session after an expiry. */
    private static final long RENEW_BACKOFF_MS = 1_000;

    private final String connectString;
    private final Duration sessionTimeout;
    private final Duration connectTimeout;
    /** The SASL login of every session, or null; and the ACLs its creates carry (zookeeper.set.acl). */
    private final SaslLogin login;
    private final KafkaZnodeAcls acls;
    /** TLS to ZooKeeper's secure client port (zookeeper.ssl.client.enable), or null. */
    private final ZkClientTls tls;
    private volatile ZkClient client;
    private volatile Runnable sessionRenewed = () -> { };
    private volatile boolean closed;
    private final ZkWatches watches = new ZkWatches(() -> client, () -> closed);

    private ZkZnodeStore(String connectString, Duration sessionTimeout, Duration connectTimeout, SaslLogin login,
                         ZkClientTls tls, KafkaZnodeAcls acls) {
        this.connectString = connectString;
        this.tls = tls;
        this.sessionTimeout = sessionTimeout;
        this.connectTimeout = connectTimeout;
        this.login = login;
        this.acls = acls;
    }

    /** Connects (waiting for the session) to {@code connectString}, e.g. "127.0.0.1:2181" or with a chroot. */
    public static ZkZnodeStore connect(String connectString, Duration sessionTimeout, Duration connectTimeout)
            throws Exception {
        return connect(connectString, sessionTimeout, connectTimeout, false);
    }

    /**
     * Connects as a Kafka 3.9 broker with {@code zookeeper.set.acl=setAcl} does: logging in with SASL when the JAAS
     * configuration has the ZooKeeper client section ({@link ZkClientLogin}), and with {@code setAcl} creating every
     * znode with Kafka's ACLs ({@link KafkaZnodeAcls}), which needs that login, as in Kafka.
     */
    public static ZkZnodeStore connect(String connectString, Duration sessionTimeout, Duration connectTimeout,
                                       boolean setAcl) throws Exception {
        return connect(connectString, sessionTimeout, connectTimeout, setAcl, null);
    }

    /**
     * The broker's store from its server.properties: zookeeper.connection.timeout.ms (Kafka's default: the session
     * timeout) bounds the wait for the first session, and the zookeeper.ssl.* keys give its TLS ({@link ZkClientTls}).
     */
    public static ZkZnodeStore forBroker(String connectString, int sessionTimeoutMs, boolean setAcl,
                                         java.util.Map<String, String> settings) throws Exception {
        String connectionTimeout = settings.get("zookeeper.connection.timeout.ms");
        long connectionTimeoutMs = connectionTimeout == null ? sessionTimeoutMs : Integer.parseInt(connectionTimeout.trim());
        return connect(connectString, Duration.ofMillis(sessionTimeoutMs), Duration.ofMillis(connectionTimeoutMs), setAcl,
                ZkClientTls.from(settings));
    }

    /**
     * As {@link #connect(String, Duration, Duration, boolean)}, over TLS when {@code tls} is not null; a certificate
     * the client shows (Kafka's zkTlsClientAuthEnabled) is then enough for {@code setAcl}: the server's x509
     * provider makes its subject the creator id Kafka's ACLs give every permission to.
     */
    public static ZkZnodeStore connect(String connectString, Duration sessionTimeout, Duration connectTimeout,
                                       boolean setAcl, ZkClientTls tls) throws Exception {
        SaslLogin login = ZkClientLogin.fromJaas();
        if (setAcl && login == null && (tls == null || !tls.identifiesClient())) {
            // Kafka's words (KafkaServer.initZkClient).
            throw new SecurityException("zookeeper.set.acl is true, but ZooKeeper client TLS configuration "
                    + "identifying at least zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and "
                    + "zookeeper.ssl.keystore.location was not present and the verification of the JAAS login file "
                    + "failed " + ZkClientLogin.describe());
        }
        ZkZnodeStore store = new ZkZnodeStore(connectString, sessionTimeout, connectTimeout, login, tls,
                new KafkaZnodeAcls(setAcl));
        try {
            store.client = store.openSession();
        } catch (Exception | Error e) {
            ZkClientLogin.release(login);
            throw e;
        }
        return store;
    }

    private ZkClient openSession() throws Exception {
        // Every session after the first is a new handle, as Kafka's ZooKeeperClient opens a new ZooKeeper object, and
        // logs in anew as that object's client does.
        if (client != null) ZkClientLogin.newSession(login);
        java.util.concurrent.atomic.AtomicReference<ZkClient> self = new java.util.concurrent.atomic.AtomicReference<>();
        ZkClient opened = ZkClient.builder(connectString).sessionTimeout(sessionTimeout).sasl(login)
                .tls(tls == null ? null : tls.engines())
                .onSessionExpired(this::renewInBackground).watcher(event -> {
                    // A login refused after start-up ends that client, as an expiry does: Kafka's ZooKeeperClient
                    // then reinitializes, and so does this store (at start-up the failure reaches the caller).
                    if (event.state() == KeeperState.AUTH_FAILED && self.get() != null && self.get() == client) {
                        renewInBackground();
                    }
                    watches.onWatchEvent(event);
                }).build();
        self.set(opened);
        try {
            opened.connected().get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Read before closing: the close cuts an attempt in the middle of its handshake, and that cut is ours,
            // not what the server said.
            String why = opened.lastConnectFailure();
            opened.close();
            if (e.getCause() instanceof ZkException zk && zk.code() == KeeperCode.AUTH_FAILED) {
                throw new IllegalStateException("ZooKeeper at " + connectString + " refused the SASL login of '"
                        + login.username() + "' (AUTHFAILED)", e);
            }
            throw new IllegalStateException("cannot connect to ZooKeeper at " + connectString + " within "
                    + connectTimeout.toMillis() + " ms" + (why == null ? "" : " (last attempt: " + why + ")"), e);
        }
        return opened;
    }

    @Override
    public void onSessionRenewed(Runnable listener) {
        this.sessionRenewed = listener;
    }

    private void renewInBackground() {
        if (closed) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "ZooKeeper session 0x{0} expired or its login failed; opening a new one",
                Long.toHexString(client.sessionId()));
        Thread renewer = new Thread(this::renew, "kafka-zk-session-renewal");
        renewer.setDaemon(true);
        renewer.start();
    }

    private void renew() {
        while (!closed) {
            ZkClient renewed;
            try {
                renewed = openSession();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "Cannot open a new ZooKeeper session yet: " + e);
                try {
                    Thread.sleep(RENEW_BACKOFF_MS);
                } catch (InterruptedException interrupted) {
                    return;
                }
                continue;
            }
            ZkClient expired = client;
            client = renewed;
            expired.close();
            if (closed) {
                renewed.close();
                return;
            }
            LOG.log(System.Logger.Level.INFO, "New ZooKeeper session 0x{0}", Long.toHexString(renewed.sessionId()));
            // Watches die with their session: arm them again, and tell each listener, since changes may have been missed.
            watches.sessionRenewed();
            try {
                sessionRenewed.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Re-registering with the new ZooKeeper session failed", e);
            }
            return;
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(OPERATION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) throw cause;
            throw e;
        }
    }

    private static boolean is(Exception e, KeeperCode code) {
        return e instanceof ZkException zk && zk.code() == code;
    }

    @Override
    public byte[] getData(String path) throws Exception {
        try {
            return await(client.getData(path, false)).data();
        } catch (Exception e) {
            if (is(e, KeeperCode.NO_NODE)) return null;
            throw e;
        }
    }

    @Override
    public List<String> getChildren(String path) throws Exception {
        try {
            List<String> children = new ArrayList<>(await(client.getChildren(path, false)));
            children.sort(null);
            return children;
        } catch (Exception e) {
            if (is(e, KeeperCode.NO_NODE)) return new ArrayList<>();
            throw e;
        }
    }

    @Override
    public boolean create(String path, byte[] data, boolean ephemeral) throws Exception {
        // The parents usually exist: try the node first and walk up only when ZooKeeper says one is missing, which
        // saves a round trip per ancestor (the start-up registration is a chain of such creates).
        try {
            return createOnce(path, data, ephemeral);
        } catch (Exception e) {
            if (!is(e, KeeperCode.NO_NODE)) throw e;
        }
        createParents(path);
        return createOnce(path, data, ephemeral);
    }

    @Override
    public java.util.Map<String, Boolean> createAll(java.util.LinkedHashMap<String, byte[]> nodes, boolean ephemeral)
            throws Exception {
        java.util.Map<String, CompletableFuture<String>> sent = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, byte[]> e : nodes.entrySet()) {
            sent.put(e.getKey(), client.create(e.getKey(), e.getValue() == null ? new byte[0] : e.getValue(),
                    acls.forPath(e.getKey()), ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT));
        }
        java.util.Map<String, Boolean> created = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, CompletableFuture<String>> e : sent.entrySet()) {
            try {
                await(e.getValue());
                created.put(e.getKey(), true);
            } catch (Exception failure) {
                if (is(failure, KeeperCode.NODE_EXISTS)) {
                    created.put(e.getKey(), false);
                } else if (is(failure, KeeperCode.NO_NODE)) {
                    // A parent was missing: this one alone goes the slow way, parents first.
                    created.put(e.getKey(), create(e.getKey(), nodes.get(e.getKey()), ephemeral));
                } else {
                    throw failure;
                }
            }
        }
        return created;
    }

    private boolean createOnce(String path, byte[] data, boolean ephemeral) throws Exception {
        try {
            await(client.create(path, data, acls.forPath(path), ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT));
            return true;
        } catch (Exception e) {
            if (is(e, KeeperCode.NODE_EXISTS)) return false;
            throw e;
        }
    }

    private void createParents(String path) throws Exception {
        int slash = path.indexOf('/', 1);
        while (slash > 0) {
            String parent = path.substring(0, slash);
            try {
                await(client.create(parent, new byte[0], acls.forPath(parent), CreateMode.PERSISTENT));
            } catch (Exception e) {
                if (!is(e, KeeperCode.NODE_EXISTS)) throw e;
            }
            slash = path.indexOf('/', slash + 1);
        }
    }

    private static void addParents(String path, java.util.Set<String> parents) {
        for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
            parents.add(path.substring(0, slash));
        }
    }

    /**
     * Creates the nodes (each parent before its children), tolerating those that exist. The creates are sent
     * together and awaited after: one session's requests are applied in order, so a child never arrives before its
     * parent, and the writes of a topic's 100 partition states cost one round of ZooKeeper commits, not 100.
     */
    private void createAll(java.util.Collection<String> paths) throws Exception {
        List<CompletableFuture<?>> sent = new ArrayList<>(paths.size());
        for (String path : paths) sent.add(client.create(path, new byte[0], acls.forPath(path), CreateMode.PERSISTENT));
        Exception failure = null;
        for (CompletableFuture<?> f : sent) {
            try {
                await(f);
            } catch (Exception e) {
                if (!is(e, KeeperCode.NODE_EXISTS) && failure == null) failure = e;
            }
        }
        if (failure != null) throw failure;
    }

    @Override
    public void setData(String path, byte[] data) throws Exception {
        try {
            await(client.setData(path, data, -1));
        } catch (Exception e) {
            if (!is(e, KeeperCode.NO_NODE)) throw e;
            if (!create(path, data, false)) await(client.setData(path, data, -1));
        }
    }

    @Override
    public boolean setDataIfVersion(String path, byte[] data, int version) throws Exception {
        try {
            await(client.setData(path, data, version));
            return true;
        } catch (Exception e) {
            if (is(e, KeeperCode.BAD_VERSION) || is(e, KeeperCode.NO_NODE)) return false;
            throw e;
        }
    }

    /**
     * Deletes the subtree with one round trip per level to list it and one to delete it: each level's reads are sent
     * together, then every delete, deepest first, and the session applies them in that order (a topic's znodes are
     * a chain of partitions and states, which one at a time cost a round trip each).
     */
    @Override
    public void deleteRecursive(String path) throws Exception {
        deleteRecursive(List.of(path));
    }

    @Override
    public void deleteRecursive(List<String> paths) throws Exception {
        List<String> subtree = new ArrayList<>();
        List<String> level = paths;
        while (!level.isEmpty()) {
            List<CompletableFuture<List<String>>> reads = new ArrayList<>();
            for (String node : level) reads.add(client.getChildren(node, false));
            List<String> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i++) {
                try {
                    for (String child : await(reads.get(i))) next.add(level.get(i) + "/" + child);
                    subtree.add(level.get(i));
                } catch (Exception e) {
                    if (!is(e, KeeperCode.NO_NODE)) throw e;
                }
            }
            level = next;
        }
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (int i = subtree.size() - 1; i >= 0; i--) deletes.add(client.delete(subtree.get(i), -1));
        for (CompletableFuture<Void> delete : deletes) {
            try {
                await(delete);
            } catch (Exception e) {
                if (!is(e, KeeperCode.NO_NODE)) throw e;
            }
        }
    }

    @Override
    public String createSequential(String prefix, byte[] data) throws Exception {
        createParents(prefix);
        // The prefix's ACL, as Kafka's createSequentialPersistent asks for defaultAcls(path) of the path it sends.
        return await(client.create(prefix, data, acls.forPath(prefix), CreateMode.PERSISTENT_SEQUENTIAL));
    }

    @Override
    public void writeAll(java.util.LinkedHashMap<String, byte[]> nodes, boolean overwrite) throws Exception {
        // Every missing ancestor first, then the nodes: all sent before waiting, applied in order by the session.
        java.util.LinkedHashMap<String, byte[]> ordered = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, byte[]> e : nodes.entrySet()) {
            String path = e.getKey();
            for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
                ordered.putIfAbsent(path.substring(0, slash), null);
            }
            ordered.put(path, e.getValue() == null ? new byte[0] : e.getValue());
        }
        List<String> paths = new ArrayList<>();
        List<CompletableFuture<Boolean>> creates = new ArrayList<>();
        for (java.util.Map.Entry<String, byte[]> e : ordered.entrySet()) {
            byte[] data = e.getValue() == null ? new byte[0] : e.getValue();
            paths.add(e.getKey());
            creates.add(client.create(e.getKey(), data, acls.forPath(e.getKey()), CreateMode.PERSISTENT)
                    .handle((created, failure) -> {
                        if (failure == null) return true;
                        Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
                        if (cause instanceof ZkException zk && zk.code() == KeeperCode.NODE_EXISTS) return false;
                        throw new java.util.concurrent.CompletionException(cause);
                    }));
        }
        List<CompletableFuture<?>> sets = new ArrayList<>();
        for (int i = 0; i < creates.size(); i++) {
            boolean created = await(creates.get(i));
            String path = paths.get(i);
            if (!created && overwrite && nodes.containsKey(path)) {
                sets.add(client.setData(path, nodes.get(path) == null ? new byte[0] : nodes.get(path), -1));
            }
        }
        for (CompletableFuture<?> set : sets) await(set);
    }

    @Override
    public boolean watches() {
        return true;
    }

    @Override
    public boolean keepsVersions() {
        return true;
    }

    @Override
    public void watchChildren(String path, Object owner, Runnable listener) {
        watches.watchChildren(path, owner, listener);
    }

    @Override
    public void watchNode(String path, Object owner, Runnable listener) {
        watches.watchNode(path, owner, listener);
    }

    @Override
    public long czxid(String path) throws Exception {
        try {
            io.tandem.zk.wire.data.Stat stat = await(client.exists(path, false));
            return stat == null ? -1 : stat.czxid();
        } catch (Exception e) {
            if (is(e, KeeperCode.NO_NODE)) return -1;
            throw e;
        }
    }

    @Override
    public long ctime(String path) throws Exception {
        try {
            io.tandem.zk.wire.data.Stat stat = await(client.exists(path, false));
            return stat == null ? -1 : stat.ctime();
        } catch (Exception e) {
            if (is(e, KeeperCode.NO_NODE)) return -1;
            throw e;
        }
    }

    @Override
    public Versioned getVersioned(String path) throws Exception {
        try {
            ZkClient.NodeData node = await(client.getData(path, false));
            return new Versioned(node.data(), node.stat().version());
        } catch (Exception e) {
            if (is(e, KeeperCode.NO_NODE)) return null;
            throw e;
        }
    }

    @Override
    public java.util.Map<String, Versioned> getVersionedAll(List<String> paths) throws Exception {
        List<CompletableFuture<ZkClient.NodeData>> reads = new ArrayList<>();
        for (String path : paths) reads.add(client.getData(path, false));
        java.util.Map<String, Versioned> read = new java.util.LinkedHashMap<>();
        for (int i = 0; i < paths.size(); i++) {
            try {
                ZkClient.NodeData node = await(reads.get(i));
                read.put(paths.get(i), new Versioned(node.data(), node.stat().version()));
            } catch (Exception e) {
                if (!is(e, KeeperCode.NO_NODE)) throw e;
                read.put(paths.get(i), null);
            }
        }
        return read;
    }

    @Override
    public boolean deleteFenced(String fencePath, int fenceVersion, java.util.LinkedHashMap<String, Integer> nodes)
            throws Exception {
        List<io.tandem.zk.wire.proto.MultiRequest.Op> ops = new ArrayList<>();
        ops.add(io.tandem.zk.wire.proto.MultiRequest.Op.check(fencePath, fenceVersion));
        nodes.forEach((path, version) -> ops.add(io.tandem.zk.wire.proto.MultiRequest.Op.delete(path, version)));
        try {
            await(client.multi(ops));
            return true;
        } catch (ZkException e) {
            if (e.code() == KeeperCode.BAD_VERSION || e.code() == KeeperCode.NO_NODE || e.code() == KeeperCode.NOT_EMPTY) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public java.util.Map<String, Integer> writeFenced(String fencePath, int fenceVersion,
                                                       java.util.LinkedHashMap<String, Versioned> writes) throws Exception {
        List<io.tandem.zk.wire.proto.MultiRequest.Op> ops = new ArrayList<>();
        ops.add(io.tandem.zk.wire.proto.MultiRequest.Op.check(fencePath, fenceVersion));
        java.util.LinkedHashSet<String> parents = new java.util.LinkedHashSet<>();
        for (java.util.Map.Entry<String, Versioned> e : writes.entrySet()) {
            if (e.getValue().version() < 0) addParents(e.getKey(), parents);
        }
        createAll(parents);
        for (java.util.Map.Entry<String, Versioned> e : writes.entrySet()) {
            if (e.getValue().version() < 0) {
                ops.add(io.tandem.zk.wire.proto.MultiRequest.Op.create(new io.tandem.zk.wire.proto.CreateRequest(
                        e.getKey(), e.getValue().data(), acls.forPath(e.getKey()), CreateMode.PERSISTENT.flag())));
            } else {
                ops.add(io.tandem.zk.wire.proto.MultiRequest.Op.setData(e.getKey(), e.getValue().data(),
                        e.getValue().version()));
            }
        }
        try {
            await(client.multi(ops));
        } catch (ZkException e) {
            if (e.code() == KeeperCode.BAD_VERSION || e.code() == KeeperCode.NODE_EXISTS || e.code() == KeeperCode.NO_NODE) {
                throw new FencedWriteException("fenced write refused by ZooKeeper (" + e.code() + ") at " + e.path());
            }
            throw e;
        }
        java.util.Map<String, Integer> versions = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, Versioned> e : writes.entrySet()) {
            versions.put(e.getKey(), e.getValue().version() + 1);
        }
        return versions;
    }

    @Override
    public void close() {
        closed = true;
        client.close();
        ZkClientLogin.release(login);
    }
}
