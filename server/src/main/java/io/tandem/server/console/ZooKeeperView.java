package io.tandem.server.console;

import io.tandem.server.cli.ClusterCommand;
import io.tandem.server.cli.ZkFormat;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.data.ACL;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The ZooKeeper pages' answers over the ZooKeeper protocol: one session of our own ZooKeeper client reads znodes
 * (getData, getChildren2, getAcl), and each ensemble member is asked {@code srvr} as {@code tandem cluster} asks it.
 * A session that was lost or expired is closed and the next request opens a new one.
 */
final class ZooKeeperView implements AutoCloseable {
    /** Held so the level set below sticks: the client logs every session at INFO, noise for a page polled often. */
    private static final Logger CLIENT_LOGGER = Logger.getLogger(ZkClient.class.getName());
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);

    private final String connectString;
    private final List<InetSocketAddress> members;
    private ZkClient client;

    /**
     * @param connectString where the znode pages read (the node's own ZooKeeper, or the one its broker uses)
     * @param members the ensemble's client addresses, each asked {@code srvr}
     */
    ZooKeeperView(String connectString, List<InetSocketAddress> members) {
        this.connectString = connectString;
        this.members = List.copyOf(members);
    }

    /** A znode: data (cut to its shown limit), Stat with zkCli's field names, ACL, and its children in name order. */
    Map<String, Object> node(String path, ShownBytes.Format format) {
        if (path == null || path.isEmpty()) path = "/";
        if (!path.startsWith("/") || (path.length() > 1 && path.endsWith("/")) || path.contains("//")) {
            throw ApiError.badRequest("'" + path + "' is not a znode path");
        }
        ZkClient zk = session();
        ZkClient.NodeData data = await(zk, zk.getData(path, false), path);
        ZkClient.Children children = await(zk, zk.getChildren2(path, false), path);
        ZkClient.Acl acl = await(zk, zk.getAcl(path), path);
        List<String> names = new ArrayList<>(children.children());
        names.sort(null);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("path", path);
        json.put("data", ShownBytes.of(data.data(), ConsoleLimits.ZNODE_BYTES_SHOWN_MAX, format));
        json.put("stat", ZkFormat.statJson(data.stat()));
        List<Map<String, Object>> entries = new ArrayList<>();
        for (ACL entry : acl.acl()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("scheme", entry.id().scheme());
            row.put("id", entry.id().id());
            row.put("perms", ZkFormat.perms(entry.perms()));
            entries.add(row);
        }
        json.put("acl", entries);
        json.put("children", names.size() > ConsoleLimits.CHILDREN_SHOWN_MAX
                ? names.subList(0, ConsoleLimits.CHILDREN_SHOWN_MAX) : names);
        json.put("childCount", names.size());
        return json;
    }

    /** Each ensemble member's srvr answer: mode (leader, follower, standalone), version, zxid, znodes, connections. */
    Map<String, Object> ensemble() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (InetSocketAddress member : members) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("server", member.getHostString() + ":" + member.getPort());
            try {
                Map<String, String> srvr = ClusterCommand.parse(ClusterCommand.fourLetterWord(member, "srvr",
                        ConsoleLimits.REQUEST_TIMEOUT_MS));
                ClusterCommand.putSrvr(row, srvr);
                if (srvr.containsKey("Mode")) {
                    row.put("latency", srvr.get("Latency min/avg/max"));
                }
            } catch (IOException e) {
                row.put("error", "unreachable: " + e.getMessage());
            }
            rows.add(row);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("connectString", connectString);
        json.put("members", rows);
        return json;
    }

    private synchronized ZkClient session() {
        if (client != null) return client;
        CLIENT_LOGGER.setLevel(Level.WARNING);
        ZkClient fresh = ZkClient.connect(connectString, SESSION_TIMEOUT, event -> { });
        try {
            fresh.connected().get(ConsoleLimits.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            fresh.close();
            Thread.currentThread().interrupt();
            throw new ApiError(503, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            fresh.close();
            throw new ApiError(502, "ZooKeeper at " + connectString + " cannot be reached"
                    + (e.getCause() == null ? "" : ": " + e.getCause().getMessage()));
        }
        client = fresh;
        return client;
    }

    private synchronized void drop(ZkClient broken) {
        if (client == broken) {
            client = null;
            broken.close();
        }
    }

    private <T> T await(ZkClient zk, CompletableFuture<T> future, String path) {
        try {
            return future.get(ConsoleLimits.REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "interrupted");
        } catch (TimeoutException e) {
            drop(zk);
            throw new ApiError(504, "ZooKeeper did not answer within " + ConsoleLimits.REQUEST_TIMEOUT_MS + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ZkException zkError) {
                KeeperCode code = zkError.code();
                if (code == KeeperCode.NO_NODE) throw ApiError.notFound("Node does not exist: " + path);
                if (code == KeeperCode.NO_AUTH) throw new ApiError(403, "Insufficient permission: " + path);
                drop(zk);
                throw new ApiError(502, "ZooKeeper answered " + (code == null ? zkError.getMessage() : code.name()));
            }
            drop(zk);
            throw new ApiError(502, "ZooKeeper request failed: " + e.getCause());
        }
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
