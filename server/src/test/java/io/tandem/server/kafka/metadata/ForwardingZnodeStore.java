package io.tandem.server.kafka.metadata;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A store that passes every call, the default methods included, to {@code inner}: tests extend it to count or
 * interpose on the calls they are about (a default method not forwarded would run against this wrapper instead and
 * lose what {@code inner} does in one round trip, such as a multi).
 */
public class ForwardingZnodeStore implements ZnodeStore {
    protected final ZnodeStore inner;

    public ForwardingZnodeStore(ZnodeStore inner) {
        this.inner = inner;
    }

    @Override
    public List<String> getChildren(String path) throws Exception {
        return inner.getChildren(path);
    }

    @Override
    public byte[] getData(String path) throws Exception {
        return inner.getData(path);
    }

    @Override
    public boolean create(String path, byte[] data, boolean ephemeral) throws Exception {
        return inner.create(path, data, ephemeral);
    }

    @Override
    public void setData(String path, byte[] data) throws Exception {
        inner.setData(path, data);
    }

    @Override
    public void deleteRecursive(String path) throws Exception {
        inner.deleteRecursive(path);
    }

    @Override
    public void deleteRecursive(List<String> paths) throws Exception {
        inner.deleteRecursive(paths);
    }

    @Override
    public String createSequential(String prefix, byte[] data) throws Exception {
        return inner.createSequential(prefix, data);
    }

    @Override
    public void writeAll(LinkedHashMap<String, byte[]> nodes, boolean overwrite) throws Exception {
        inner.writeAll(nodes, overwrite);
    }

    @Override
    public Map<String, Boolean> createAll(LinkedHashMap<String, byte[]> nodes, boolean ephemeral) throws Exception {
        return inner.createAll(nodes, ephemeral);
    }

    @Override
    public long czxid(String path) throws Exception {
        return inner.czxid(path);
    }

    @Override
    public long ctime(String path) throws Exception {
        return inner.ctime(path);
    }

    @Override
    public Versioned getVersioned(String path) throws Exception {
        return inner.getVersioned(path);
    }

    @Override
    public boolean setDataIfVersion(String path, byte[] data, int version) throws Exception {
        return inner.setDataIfVersion(path, data, version);
    }

    @Override
    public Map<String, Integer> writeFenced(String fencePath, int fenceVersion,
                                            LinkedHashMap<String, Versioned> writes) throws Exception {
        return inner.writeFenced(fencePath, fenceVersion, writes);
    }

    @Override
    public Map<String, Versioned> getVersionedAll(List<String> paths) throws Exception {
        return inner.getVersionedAll(paths);
    }

    @Override
    public boolean deleteFenced(String fencePath, int fenceVersion, LinkedHashMap<String, Integer> nodes)
            throws Exception {
        return inner.deleteFenced(fencePath, fenceVersion, nodes);
    }

    @Override
    public boolean watches() {
        return inner.watches();
    }

    @Override
    public boolean keepsVersions() {
        return inner.keepsVersions();
    }

    @Override
    public void watchChildren(String path, Object owner, Runnable listener) {
        inner.watchChildren(path, owner, listener);
    }

    @Override
    public void watchNode(String path, Object owner, Runnable listener) {
        inner.watchNode(path, owner, listener);
    }

    @Override
    public void onSessionRenewed(Runnable listener) {
        inner.onSessionRenewed(listener);
    }

    @Override
    public void close() {
        inner.close();
    }
}
