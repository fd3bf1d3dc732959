package io.tandem.server.ensemble;

import io.tandem.zk.wire.FourLetterWord;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * Three in-process Tandem ZooKeeper voters (ids 1-3), optionally followed by observers (ids 4...), on fixed free
 * loopback ports, so a stopped member restarts in place.
 */
public final class TestEnsemble implements AutoCloseable {
    static final int TICK_MS = 200;
    /**
     * 3 s before a follower gives up a leader that is alive but slow (and 6 s before a member disconnects the clients
     * whose forwarded requests wait for it): a CI run on 2 loaded cores stalled a leader past 1 s (syncLimit 5) while
     * thousands of pipelined creates went through it. A stopped member is still noticed at once: its sockets close.
     */
    static final int SYNC_LIMIT = 15;
    /** At least {@link #SYNC_LIMIT} (ZabConfig's rule). */
    static final int INIT_LIMIT = 20;
    static final int SIZE = 3;
    /** The digest user tests create private nodes as; the tree walker reads as it too. */
    static final String DUMP_AUTH = "alice:secret";

    private final Path dir;
    /** Voters and observers: ids 1..members. */
    private final int members;
    /** Voters: ids 1..voters (ids after them are observers). */
    private final int voters;
    private final int[] clientPorts;
    private final Map<String, String> serverLines = new TreeMap<>();
    private final Tandem[] nodes;
    /** Further zoo.cfg keys every member starts with (e.g. a small snapCount). */
    final Map<String, String> extraSettings = new TreeMap<>();
    /**
     * Members that join by reconfig: only their own zoo.cfg names them (with the others, as Apache wants a joiner
     * started), the other members learn them from the committed reconfig.
     */
    final java.util.Set<Integer> joiners = new java.util.TreeSet<>();
    /** Further zoo.cfg keys of one member only, by id (e.g. another member's credentials). */
    final Map<Integer, Map<String, String>> memberSettings = new TreeMap<>();

    TestEnsemble(Path dir) throws IOException {
        this(dir, 0);
    }

    /** {@link #SIZE} voters and {@code observers} observers (ids SIZE + 1 on). */
    TestEnsemble(Path dir, int observers) throws IOException {
        this(dir, observers, 0);
    }

    /**
     * {@link #SIZE} voters, {@code extraVoters} more voters (ids SIZE + 1 on, e.g. one that joins by reconfig) and
     * {@code observers} observers after them.
     */
    TestEnsemble(Path dir, int observers, int extraVoters) throws IOException {
        this.dir = dir;
        this.voters = SIZE + extraVoters;
        this.members = voters + observers;
        this.clientPorts = new int[members + 1];
        this.nodes = new Tandem[members + 1];
        for (int id = 1; id <= members; id++) {
            clientPorts[id] = freePort();
            serverLines.put("server." + id, "127.0.0.1:" + freePort() + ":" + freePort()
                    + (isObserver(id) ? ":observer" : ""));
        }
    }

    boolean isObserver(int id) {
        return id > voters;
    }

    /** See {@link TestPorts}: never one the other surefire fork or this JVM handed out recently. */
    public static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    void startAll() throws IOException {
        for (int id = 1; id <= members; id++) {
            start(id);
        }
    }

    void start(int id) throws IOException {
        TandemConfig config = TandemConfig.forTests(dir.resolve("node" + id))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .zookeeperPort(clientPorts[id])
                .set("myid", Integer.toString(id))
                .set("tickTime", Integer.toString(TICK_MS))
                .set("initLimit", Integer.toString(INIT_LIMIT))
                .set("syncLimit", Integer.toString(SYNC_LIMIT))
                .set("maxSessionTimeout", "30000");
        serverLines.forEach((key, line) -> {
            int lineId = Integer.parseInt(key.substring("server.".length()));
            if (lineId == id || !joiners.contains(lineId)) {
                config.set(key, line);
            }
        });
        if (isObserver(id)) {
            config.set("peerType", "observer");
        }
        extraSettings.forEach(config::set);
        memberSettings.getOrDefault(id, Map.of()).forEach(config::set);
        nodes[id] = Tandem.start(config);
    }

    void stop(int id) {
        nodes[id].close();
        nodes[id] = null;
    }

    /** The member's Zab directory: log, epochs and snapshots. */
    Path zabDir(int id) {
        return dir.resolve("node" + id).resolve("zookeeper").resolve("zab");
    }

    /** The running member's node (its ports), or null when stopped. */
    Tandem node(int id) {
        return nodes[id];
    }

    boolean isRunning(int id) {
        return nodes[id] != null;
    }

    /** The value of the member's {@code server.N} line, as every member's zoo.cfg has it. */
    String serverLine(int id) {
        return serverLines.get("server." + id);
    }

    int clientPort(int id) {
        return clientPorts[id];
    }

    String connect(int id) {
        return "127.0.0.1:" + clientPorts[id];
    }

    String connectAll() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= SIZE; id++) {
            hosts.add(connect(id));
        }
        return String.join(",", hosts);
    }

    /**
     * The member's Mode line of {@code srvr}: leader, follower, observer or read-only; "looking" when it answers, as
     * Apache's members without a leader do, only {@link FourLetterWord#NOT_SERVING}.
     */
    String mode(int id) {
        return modeAt(clientPorts[id]);
    }

    static String modeAt(int clientPort) {
        try {
            String text = fourLetterWord(clientPort, "srvr", 2_000);
            if (text.strip().equals(FourLetterWord.NOT_SERVING)) return "looking";
            for (String line : text.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring("Mode: ".length()).trim();
                }
            }
            return "unknown";
        } catch (IOException e) {
            return "down";
        }
    }

    /** Sends {@code word} to a client port and returns the whole answer (the server closes after it). */
    static String fourLetterWord(int clientPort, String word, int timeoutMs) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(timeoutMs);
            OutputStream out = socket.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /**
     * For ensembles of member processes 1..{@code size}: waits until every member {@code running} says is up serves
     * and exactly one leads, and returns the leader's id; if they do not settle, prints the tail of each
     * {@code node<id>.log} in {@code logDir} and fails.
     */
    static int awaitServing(int size, int[] clientPorts, IntPredicate running, Path logDir, long timeoutMs)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            int leader = -1;
            int leaders = 0;
            boolean allServing = true;
            StringBuilder modes = new StringBuilder();
            for (int id = 1; id <= size; id++) {
                if (!running.test(id)) {
                    continue;
                }
                String mode = modeAt(clientPorts[id]);
                modes.append(id).append('=').append(mode).append(' ');
                if (mode.equals("leader")) {
                    leader = id;
                    leaders++;
                } else if (!mode.equals("follower")) {
                    allServing = false;
                }
            }
            last = modes.toString();
            if (allServing && leaders == 1) {
                return leader;
            }
            Thread.sleep(100);
        }
        for (int id = 1; id <= size; id++) {
            List<String> lines = Files.readAllLines(logDir.resolve("node" + id + ".log"), StandardCharsets.UTF_8);
            System.out.println("---- node " + id + " log tail\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        }
        throw new AssertionError("ensemble did not settle within " + timeoutMs + " ms: " + last);
    }

    /** Whether member {@code id} serves (leads, follows or observes). */
    boolean isServing(int id) {
        String mode = mode(id);
        return mode.equals("leader") || mode.equals("follower") || mode.equals("observer");
    }

    /** Waits until members {@code ids} serve, whatever the others do (a member kept out, say). */
    void awaitMembersServing(long timeoutMs, int... ids) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!java.util.Arrays.stream(ids).allMatch(this::isServing)) {
            if (System.currentTimeMillis() > deadline) {
                StringBuilder modes = new StringBuilder();
                for (int id : ids) modes.append(' ').append(id).append('=').append(mode(id));
                throw new AssertionError("members did not serve within " + timeoutMs + " ms:" + modes);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Writes {@code path} through a follower of the serving ensemble (so the leader gets it forwarded) and checks
     * every member has it after a sync.
     */
    void assertForwardedWriteReachesEveryMember(String path) throws Exception {
        int leader = awaitServing(30_000);
        int follower = leader == 1 ? 2 : 1;
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);
        try (ZooKeeper viaFollower = client(connect(follower), 10_000, null)) {
            viaFollower.create(path, value, org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    org.apache.zookeeper.CreateMode.PERSISTENT);
        }
        for (int id = 1; id <= SIZE; id++) {
            try (ZooKeeper zk = client(connect(id), 10_000, null)) {
                zk.sync("/", (rc, p, ctx) -> { }, null);
                if (!java.util.Arrays.equals(value, zk.getData(path, false, null))) {
                    throw new AssertionError("member " + id + " lacks the forwarded write " + path);
                }
            }
        }
    }

    /** Waits until every running member serves and exactly one leads; returns the leader's id. */
    int awaitServing(long timeoutMs) throws InterruptedException {
        return awaitServing(timeoutMs, id -> true);
    }

    /** As {@link #awaitServing(long)}, looking at the voters only (an observer may be stopped or removed). */
    int awaitServingVoters(long timeoutMs) throws InterruptedException {
        return awaitServing(timeoutMs, id -> !isObserver(id));
    }

    private int awaitServing(long timeoutMs, IntPredicate counted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            int leader = -1;
            int leaders = 0;
            boolean allServing = true;
            StringBuilder modes = new StringBuilder();
            for (int id = 1; id <= members; id++) {
                if (!isRunning(id) || !counted.test(id)) {
                    continue;
                }
                String mode = mode(id);
                modes.append(id).append('=').append(mode).append(' ');
                if (mode.equals("leader")) {
                    leader = id;
                    leaders++;
                } else if (!mode.equals(isObserver(id) ? "observer" : "follower")) {
                    allServing = false;
                }
            }
            last = modes.toString();
            if (allServing && leaders == 1) {
                return leader;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("ensemble did not settle within " + timeoutMs + " ms: " + last);
    }

    static ZooKeeper client(String connect, int sessionTimeoutMs, Watcher extra)
            throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, sessionTimeoutMs, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
            if (extra != null) {
                extra.process(event);
            }
        });
        if (!connected.await(20, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("ZooKeeper client did not connect to " + connect);
        }
        return zk;
    }

    /**
     * The whole tree as one member serves it (after a sync, so it is caught up): every path outside /zookeeper with
     * its data and the Stat fields every member must agree on.
     */
    Map<String, String> dump(int id) throws Exception {
        return dump(connect(id));
    }

    static Map<String, String> dump(String connect) throws Exception {
        try (ZooKeeper zk = client(connect, 10_000, null)) {
            zk.addAuthInfo("digest", DUMP_AUTH.getBytes(StandardCharsets.UTF_8)); // tests' private nodes use it
            CountDownLatch synced = new CountDownLatch(1);
            zk.sync("/", (rc, path, ctx) -> synced.countDown(), null);
            if (!synced.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("sync on " + connect + " did not complete");
            }
            Map<String, String> tree = new TreeMap<>();
            walk(zk, tree);
            return tree;
        }
    }

    /**
     * Nodes a walk reads at once (two requests each): pipelined, a 10,000-node tree reads in about a second, not ten.
     * Kept well under an ensemble member's share of globalOutstandingLimit (1000 / (voters - 1), 250 with five): with
     * more in flight than that, members answered some reads out of order ("Xid out of order" in the client).
     */
    private static final int WALK_WINDOW = 50;

    /**
     * Every node but /zookeeper's, a level at a time: its data, Stat and children read with async calls, at most
     * {@link #WALK_WINDOW} at once (one round trip per node one after another took most of a process test's
     * verification time). Any error fails the walk as the synchronous calls would have, with its KeeperException.
     */
    private static void walk(ZooKeeper zk, Map<String, String> tree) throws KeeperException, InterruptedException {
        List<String> level = List.of("/");
        while (!level.isEmpty()) {
            List<String> next = new ArrayList<>();
            for (int from = 0; from < level.size(); from += WALK_WINDOW) {
                List<String> batch = level.subList(from, Math.min(level.size(), from + WALK_WINDOW));
                String[] texts = new String[batch.size()];
                List<List<String>> children = new ArrayList<>(Collections.nCopies(batch.size(), null));
                KeeperException[] failure = new KeeperException[1];
                CountDownLatch answered = new CountDownLatch(2 * batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    int at = i;
                    String path = batch.get(i);
                    zk.getData(path, false, (rc, p, ctx, data, stat) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            String text = data == null ? "null" : new String(data, StandardCharsets.UTF_8);
                            texts[at] = text + " czxid=" + stat.getCzxid() + " mzxid=" + stat.getMzxid() + " pzxid="
                                    + stat.getPzxid() + " v=" + stat.getVersion() + " cv=" + stat.getCversion()
                                    + " av=" + stat.getAversion() + " owner=" + stat.getEphemeralOwner()
                                    + " children=" + stat.getNumChildren();
                        } else {
                            failure[0] = KeeperException.create(KeeperException.Code.get(rc), p);
                        }
                        answered.countDown();
                    }, null);
                    zk.getChildren(path, false, (rc, p, ctx, names) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            children.set(at, names);
                        } else {
                            failure[0] = KeeperException.create(KeeperException.Code.get(rc), p);
                        }
                        answered.countDown();
                    }, null);
                }
                if (!answered.await(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("the tree walk got no answer for some of " + batch.size() + " nodes");
                }
                if (failure[0] != null) {
                    throw failure[0];
                }
                for (int i = 0; i < batch.size(); i++) {
                    String path = batch.get(i);
                    tree.put(path, texts[i]);
                    for (String child : children.get(i)) {
                        String childPath = path.equals("/") ? "/" + child : path + "/" + child;
                        if (!childPath.equals("/zookeeper")) {
                            next.add(childPath);
                        }
                    }
                }
            }
            level = next;
        }
    }

    /** The client port the official client is connected to, from its toString ("remoteserver:/127.0.0.1:port"). */
    static int connectedPort(ZooKeeper zk) {
        String text = zk.toString();
        int at = text.indexOf("remoteserver:");
        if (at < 0) {
            return -1;
        }
        String rest = text.substring(at + "remoteserver:".length()).split(" ")[0];
        return Integer.parseInt(rest.substring(rest.lastIndexOf(':') + 1).trim());
    }

    int idOfPort(int port) {
        for (int id = 1; id <= members; id++) {
            if (clientPorts[id] == port) {
                return id;
            }
        }
        throw new AssertionError("no member on port " + port);
    }

    @Override
    public void close() {
        for (int id = 1; id <= members; id++) {
            if (nodes[id] != null) {
                stop(id);
            }
        }
    }
}
