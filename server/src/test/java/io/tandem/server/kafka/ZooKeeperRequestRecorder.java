package io.tandem.server.kafka;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between a broker and its ZooKeeper that records every request the broker sends (its opcode and path),
 * pings left out: a test points {@code zookeeper.connect} at it to see whether an action reached ZooKeeper at all,
 * without wrapping anything inside the broker. Frames are read as ZooKeeper's client writes them: a 4-byte length,
 * then for each frame after a connection's ConnectRequest a RequestHeader (xid, type) and, for the path-based
 * operations, the path. Requests a test names as background (a timer's, not an action's) are left out like pings.
 */
final class ZooKeeperRequestRecorder implements AutoCloseable {
    private static final int PING = 11;
    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(1, "create"), Map.entry(2, "delete"),
            Map.entry(3, "exists"), Map.entry(4, "getData"), Map.entry(5, "setData"), Map.entry(6, "getACL"),
            Map.entry(7, "setACL"), Map.entry(8, "getChildren"), Map.entry(9, "sync"), Map.entry(12, "getChildren2"),
            Map.entry(13, "check"), Map.entry(14, "multi"), Map.entry(15, "create2"), Map.entry(19, "createContainer"),
            Map.entry(21, "createTTL"), Map.entry(22, "multiRead"), Map.entry(101, "setWatches"),
            Map.entry(103, "getEphemerals"), Map.entry(104, "getAllChildrenNumber"), Map.entry(105, "setWatches2"),
            Map.entry(106, "addWatch"), Map.entry(-11, "closeSession"));
    /** Operations whose request body starts with the path. */
    private static final List<Integer> PATH_FIRST = List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 19, 21, 103, 104, 106);
    private static final int FRAME_BYTES_MAX = 16 << 20;

    private final ServerSocket listener;
    private final String target;
    private final Set<String> background;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile long lastRequestNanos = System.nanoTime();

    /** {@code background}: requests, as recorded ("getData /path"), left out. */
    ZooKeeperRequestRecorder(String zookeeperConnect, Set<String> background) throws IOException {
        this.target = zookeeperConnect;
        this.background = Set.copyOf(background);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "zk-recorder-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The address to give the broker as {@code zookeeper.connect}. */
    String connectString() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** How many requests were recorded so far: pass it to {@link #since(int)}. */
    int mark() {
        return requests.size();
    }

    List<String> since(int mark) {
        return new ArrayList<>(requests.subList(mark, requests.size()));
    }

    /** Waits until no request has come for {@code quietMs} (or {@code maxMs} passed): the broker is settled. */
    void awaitQuiet(long quietMs, long maxMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + maxMs;
        while ((System.nanoTime() - lastRequestNanos) / 1_000_000 < quietMs && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                String[] hostPort = target.split(",")[0].split(":");
                Socket server = new Socket(hostPort[0], Integer.parseInt(hostPort[1]));
                sockets.add(client);
                sockets.add(server);
                start(() -> copy(server.getInputStream(), client.getOutputStream(), client, server), "zk-recorder-down");
                start(() -> relayRequests(client.getInputStream(), server.getOutputStream(), client, server),
                        "zk-recorder-up");
            } catch (IOException e) {
                if (!listener.isClosed()) throw new IllegalStateException("the recorder cannot relay", e);
            }
        }
    }

    private static void start(IoTask task, String name) {
        Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (IOException ignored) {
                // The connection ended: the broker closed it or the test is over.
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    private void relayRequests(InputStream from, OutputStream to, Socket a, Socket b) throws IOException {
        DataInputStream in = new DataInputStream(from);
        DataOutputStream out = new DataOutputStream(to);
        boolean connectRequest = true;
        try {
            while (true) {
                int length = in.readInt();
                if (length < 0 || length > FRAME_BYTES_MAX) throw new IOException("frame of " + length + " bytes");
                byte[] frame = new byte[length];
                in.readFully(frame);
                if (connectRequest) {
                    connectRequest = false;
                } else {
                    record(frame);
                }
                out.writeInt(length);
                out.write(frame);
                out.flush();
            }
        } finally {
            a.close();
            b.close();
        }
    }

    private void record(byte[] frame) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        buffer.getInt(); // xid
        int type = buffer.getInt();
        if (type == PING) return;
        String entry = NAMES.getOrDefault(type, "op " + type);
        if (PATH_FIRST.contains(type) && buffer.remaining() >= 4) {
            int pathLength = buffer.getInt();
            if (pathLength >= 0 && pathLength <= buffer.remaining()) {
                entry += " " + new String(frame, buffer.position(), pathLength, StandardCharsets.UTF_8);
            }
        }
        if (background.contains(entry)) return;
        requests.add(entry);
        lastRequestNanos = System.nanoTime();
    }

    private static void copy(InputStream from, OutputStream to, Socket a, Socket b) throws IOException {
        try {
            from.transferTo(to);
        } finally {
            a.close();
            b.close();
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) s.close();
    }

    @FunctionalInterface
    private interface IoTask {
        void run() throws IOException;
    }
}
