package io.tandem.server.kafka.replica.sim;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A ZooKeeper ensemble as the brokers' {@link ZnodeStore} sees it, simulated: one tree with versions and czxids,
 * ephemerals owned by sessions, multi-style fenced writes, and watch notifications delivered a little later as
 * simulation events. A session can expire (its ephemerals vanish, its calls fail until a new session opens and its
 * renewal listeners run) or end with its broker's crash after the session timeout. The ensemble itself never fails
 * here: Zab has its own simulation.
 */
final class SimZooKeeper {
    private static final class Node {
        byte[] data;
        int version;
        final long czxid;
        final Session owner;

        Node(byte[] data, long czxid, Session owner) {
            this.data = data;
            this.czxid = czxid;
            this.owner = owner;
        }
    }

    private record Watch(Session session, String path, boolean children, Runnable listener) {
    }

    private final SimScheduler scheduler;
    private final Map<String, Node> tree = new TreeMap<>();
    private final List<Watch> watches = new ArrayList<>();
    private final SimChecks checks;
    /** A broken store, for the mutation test: a controller's write of its epoch leaves the old value. */
    private final boolean dropEpochWrites;
    private long zxid;
    private long sequence;
    /** Told of every change of an existing node's data (path, data before, data after), as it happens. */
    private Written written = (path, before, after) -> { };

    /** A change of a node's data, seen by the simulation's checks (the controller's partition-state writes). */
    @FunctionalInterface
    interface Written {
        void written(String path, byte[] before, byte[] after);
    }

    SimZooKeeper(SimScheduler scheduler, SimChecks checks, boolean dropEpochWrites) {
        this.scheduler = scheduler;
        this.checks = checks;
        this.dropEpochWrites = dropEpochWrites;
        tree.put("/", new Node(new byte[0], 0, null));
    }

    void onWritten(Written listener) {
        this.written = listener;
    }

    Session openSession(int brokerId) {
        return new Session(brokerId);
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private void changed(String path, boolean childrenOfParent) {
        for (Watch w : new ArrayList<>(watches)) {
            boolean hit = w.children() ? childrenOfParent && w.path().equals(parent(path)) : w.path().equals(path);
            if (!hit) continue;
            scheduler.after(scheduler.between(1, 20), () -> {
                if (!w.session().closed) w.listener().run();
            });
        }
    }

    private void put(String path, byte[] data, Session owner) {
        String p = parent(path);
        if (!tree.containsKey(p)) put(p, new byte[0], null);
        tree.put(path, new Node(data, ++zxid, owner));
        changed(path, true);
    }

    private void delete(String path) {
        List<String> under = new ArrayList<>();
        for (String p : tree.keySet()) if (p.equals(path) || p.startsWith(path + "/")) under.add(p);
        for (int i = under.size() - 1; i >= 0; i--) {
            tree.remove(under.get(i));
            zxid++;
            changed(under.get(i), true);
        }
    }

    private void setData(String path, byte[] data) {
        Node n = tree.get(path);
        byte[] before = n.data;
        n.data = data;
        n.version++;
        zxid++;
        written.written(path, before, data);
        changed(path, false);
    }

    /** One broker's connection: the sessions it goes through over its life, until its process stops. */
    final class Session implements ZnodeStore {
        final int brokerId;
        boolean closed;
        boolean expired;
        private final List<Runnable> renewals = new ArrayList<>();

        Session(int brokerId) {
            this.brokerId = brokerId;
        }

        private void check() {
            if (closed) throw new IllegalStateException("session of broker " + brokerId + " is closed");
            if (expired) throw new IllegalStateException("session of broker " + brokerId + " expired");
        }

        private void dropEphemerals() {
            List<String> mine = new ArrayList<>();
            tree.forEach((path, node) -> {
                if (node.owner == this) mine.add(path);
            });
            for (String path : mine) delete(path);
        }

        /** The session expires now: ephemerals go; a new session opens after {@code renewAfterMs}. */
        void expire(long renewAfterMs) {
            if (closed || expired) return;
            expired = true;
            dropEphemerals();
            scheduler.after(renewAfterMs, () -> {
                if (closed) return;
                expired = false;
                for (Runnable r : renewals) r.run();
            });
        }

        /** The broker's process died: its ephemerals go once ZooKeeper notices, after the session timeout. */
        void crash(long sessionTimeoutMs) {
            closed = true;
            scheduler.after(sessionTimeoutMs, this::dropEphemerals);
        }

        @Override
        public byte[] getData(String path) {
            check();
            Node n = tree.get(path);
            return n == null ? null : n.data;
        }

        @Override
        public List<String> getChildren(String path) {
            check();
            List<String> children = new ArrayList<>();
            String prefix = path.equals("/") ? "/" : path + "/";
            for (String p : tree.keySet()) {
                if (p.startsWith(prefix) && p.length() > prefix.length() && p.indexOf('/', prefix.length()) < 0) {
                    children.add(p.substring(prefix.length()));
                }
            }
            return children;
        }

        @Override
        public boolean create(String path, byte[] data, boolean ephemeral) {
            check();
            if (tree.containsKey(path)) return false;
            put(path, data, ephemeral ? this : null);
            return true;
        }

        @Override
        public void setData(String path, byte[] data) {
            check();
            if (!tree.containsKey(path)) {
                put(path, data, null);
            } else {
                SimZooKeeper.this.setData(path, data);
            }
        }

        @Override
        public void deleteRecursive(String path) {
            check();
            delete(path);
        }

        @Override
        public String createSequential(String prefix, byte[] data) {
            check();
            String path = prefix + String.format("%010d", sequence++);
            put(path, data, null);
            return path;
        }

        @Override
        public long czxid(String path) {
            check();
            Node n = tree.get(path);
            return n == null ? -1 : n.czxid;
        }

        @Override
        public Versioned getVersioned(String path) {
            check();
            Node n = tree.get(path);
            return n == null ? null : new Versioned(n.data, n.version);
        }

        @Override
        public boolean setDataIfVersion(String path, byte[] data, int version) {
            check();
            Node n = tree.get(path);
            if (n == null || n.version != version) return false;
            SimZooKeeper.this.setData(path, data);
            return true;
        }

        /** A multi: the fence and every node checked first, then all written, or nothing. */
        @Override
        public Map<String, Integer> writeFenced(String fencePath, int fenceVersion,
                                                LinkedHashMap<String, Versioned> writes) throws FencedWriteException {
            check();
            Node fence = tree.get(fencePath);
            if (fence == null || fence.version != fenceVersion) {
                throw new FencedWriteException(fencePath + " is not at version " + fenceVersion);
            }
            for (Map.Entry<String, Versioned> e : writes.entrySet()) {
                Node n = tree.get(e.getKey());
                boolean ok = e.getValue().version() == -1 ? n == null : n != null && n.version == e.getValue().version();
                if (!ok) throw new FencedWriteException(e.getKey() + " moved");
            }
            Map<String, Integer> versions = new LinkedHashMap<>();
            for (Map.Entry<String, Versioned> e : writes.entrySet()) {
                if (e.getValue().version() == -1) {
                    put(e.getKey(), e.getValue().data(), null);
                } else if (dropEpochWrites && e.getKey().equals(KafkaZkLayout.CONTROLLER_EPOCH)) {
                    SimZooKeeper.this.setData(e.getKey(), tree.get(e.getKey()).data);
                } else {
                    SimZooKeeper.this.setData(e.getKey(), e.getValue().data());
                }
                versions.put(e.getKey(), tree.get(e.getKey()).version);
                if (e.getKey().equals(KafkaZkLayout.CONTROLLER_EPOCH)) {
                    checks.controllerEpochWritten(KafkaZkLayout.decodeControllerEpoch(e.getValue().data()), brokerId);
                }
            }
            return versions;
        }

        /** As ZooKeeper's multi of a check and deletes: all or nothing, each node childless once those before went. */
        @Override
        public boolean deleteFenced(String fencePath, int fenceVersion, LinkedHashMap<String, Integer> nodes) {
            check();
            Node fence = tree.get(fencePath);
            if (fence == null || fence.version != fenceVersion) return false;
            java.util.Set<String> gone = new java.util.HashSet<>();
            for (Map.Entry<String, Integer> e : nodes.entrySet()) {
                Node n = gone.contains(e.getKey()) ? null : tree.get(e.getKey());
                if (n == null || e.getValue() != -1 && n.version != e.getValue()) return false;
                for (String child : getChildren(e.getKey())) {
                    if (!gone.contains(e.getKey() + "/" + child)) return false;
                }
                gone.add(e.getKey());
            }
            for (String path : nodes.keySet()) delete(path);
            return true;
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
        public void watchChildren(String path, Runnable listener) {
            watches.add(new Watch(this, path, true, listener));
        }

        @Override
        public void watchNode(String path, Runnable listener) {
            watches.add(new Watch(this, path, false, listener));
        }

        @Override
        public void onSessionRenewed(Runnable listener) {
            renewals.add(listener);
        }

        @Override
        public void close() {
            closed = true;
            dropEphemerals();
        }
    }
}
