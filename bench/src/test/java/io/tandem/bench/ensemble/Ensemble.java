package io.tandem.bench.ensemble;

import io.tandem.bench.ServerProcess;
import io.tandem.bench.zookeeper.ZkBench;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A ZooKeeper ensemble on loopback (three voters by default, or five; observers optional), each node its own OS
 * process with its own zoo.cfg (same server.N lines, its own clientPort and dataDir; an observer also says
 * peerType=observer and every server line of an observer ends in :observer) and a myid file in its data dir. The
 * command that runs one node is given by the caller, so the same ensemble serves Apache (QuorumPeerMain) and Tandem
 * (./tandem start --config).
 */
final class Ensemble implements AutoCloseable {
    /** The default shape: three voters, no observers. */
    static final int SIZE = 3;
    /** The timing every node gets, Apache's sample zoo.cfg values, so both ensembles elect and sync on the same clock. */
    static final int TICK_TIME_MS = 2000;
    static final int INIT_LIMIT_TICKS = 10;
    static final int SYNC_LIMIT_TICKS = 5;

    /** One member: its id (myid), its ports, whether it observes, and where its files live. */
    record Node(int id, int clientPort, int quorumPort, int electionPort, boolean observer, Path dataDir, Path config,
                Path log) {
        String clientAddress() {
            return "127.0.0.1:" + clientPort;
        }
    }

    private final String name;
    private final List<Node> nodes;
    private final Function<Node, List<String>> command;
    private final ServerProcess[] processes;

    private Ensemble(String name, List<Node> nodes, Function<Node, List<String>> command) {
        this.name = name;
        this.nodes = nodes;
        this.command = command;
        this.processes = new ServerProcess[nodes.size()];
    }

    /** Three voters, no observers: {@link #prepare(String, Path, int, int, Function)}. */
    static Ensemble prepare(String name, Path work, Function<Node, List<String>> command) throws IOException {
        return prepare(name, work, SIZE, 0, command);
    }

    /**
     * Lays out fresh data dirs, myid files and zoo.cfg files under {@code work/<name>-ensemble} on free ports: ids
     * 1..voters vote, the next {@code observers} ids observe.
     */
    static Ensemble prepare(String name, Path work, int voters, int observers, Function<Node, List<String>> command)
            throws IOException {
        Path base = work.resolve(name + "-ensemble");
        ZkBench.deleteRecursively(base);
        List<Node> nodes = new ArrayList<>();
        java.util.Set<Integer> taken = new java.util.HashSet<>();
        for (int id = 1; id <= voters + observers; id++) {
            Path dataDir = base.resolve("node" + id);
            Files.createDirectories(dataDir);
            nodes.add(new Node(id, freshPort(taken), freshPort(taken), freshPort(taken), id > voters, dataDir,
                    base.resolve("zoo" + id + ".cfg"), base.resolve("node" + id + ".log")));
        }
        for (Node node : nodes) {
            Files.writeString(node.dataDir.resolve("myid"), node.id + "\n");
            Files.writeString(node.config, zooCfg(node, nodes));
        }
        return new Ensemble(name, List.copyOf(nodes), command);
    }

    /** A free port not handed out before in this ensemble: the OS may offer a just-closed one again. */
    private static int freshPort(java.util.Set<Integer> taken) throws IOException {
        while (true) {
            int port = ZkBench.freePort();
            if (taken.add(port)) return port;
        }
    }

    /**
     * One node's zoo.cfg. forceSync and the admin server are system properties on Apache that zoo.cfg may also set
     * (QuorumPeerConfig passes unknown keys through as zookeeper.*), and 4lw commands are all allowed so the
     * benchmark can ask every node for its mode with srvr.
     */
    static String zooCfg(Node self, List<Node> members) {
        StringBuilder cfg = new StringBuilder()
                .append("tickTime=").append(TICK_TIME_MS).append('\n')
                .append("initLimit=").append(INIT_LIMIT_TICKS).append('\n')
                .append("syncLimit=").append(SYNC_LIMIT_TICKS).append('\n')
                .append("dataDir=").append(self.dataDir.toAbsolutePath()).append('\n')
                .append("clientPort=").append(self.clientPort).append('\n')
                .append("clientPortAddress=127.0.0.1\n")
                .append("forceSync=yes\n")
                .append("admin.enableServer=false\n")
                .append("4lw.commands.whitelist=*\n");
        if (self.observer) {
            cfg.append("peerType=observer\n");
        }
        for (Node member : members) {
            cfg.append("server.").append(member.id).append("=127.0.0.1:")
                    .append(member.quorumPort).append(':').append(member.electionPort)
                    .append(member.observer ? ":observer" : "").append('\n');
        }
        return cfg.toString();
    }

    /** Spawns every node, then waits until each answers a session handshake (only possible once a quorum has formed). */
    void start() throws IOException, InterruptedException {
        for (Node node : nodes) {
            Files.deleteIfExists(node.log);
            processes[node.id - 1] = ServerProcess.spawn(name + node.id, command.apply(node), node.log);
        }
        for (Node node : nodes) {
            processes[node.id - 1].awaitReady(ServerProcess.zookeeperHandshake("127.0.0.1", node.clientPort));
        }
    }

    /** Starts a killed node again on its old data dir and waits until it serves clients again. */
    void restart(Node node) throws IOException, InterruptedException {
        processes[node.id - 1] = ServerProcess.spawn(name + node.id, command.apply(node), node.log);
        processes[node.id - 1].awaitReady(ServerProcess.zookeeperHandshake("127.0.0.1", node.clientPort));
    }

    void kill(Node node) throws InterruptedException {
        processes[node.id - 1].kill();
    }

    List<Node> nodes() {
        return nodes;
    }

    /** Each node's client address, for spreading sessions over the servers. */
    List<String> clientAddresses() {
        return nodes.stream().map(Node::clientAddress).toList();
    }

    /** "server.N" for a client address "127.0.0.1:port", or the address itself if no node has that client port. */
    String nameOf(String clientAddress) {
        return nodes.stream().filter(n -> n.clientAddress().equals(clientAddress)).findFirst()
                .map(n -> "server." + n.id).orElse(clientAddress);
    }

    /** The connect string naming every server, as an application would configure it. */
    String connectString() {
        return String.join(",", clientAddresses());
    }

    long slowestStartupMillis() {
        long slowest = 0;
        for (ServerProcess process : processes) {
            slowest = Math.max(slowest, process.startupMillis());
        }
        return slowest;
    }

    /** CPU seconds by thread group summed over the live nodes, each group named "server.N thread-group". */
    java.util.Map<String, Double> cpuSnapshot() {
        java.util.Map<String, Double> all = new java.util.HashMap<>();
        for (int i = 0; i < processes.length; i++) {
            if (processes[i] != null && processes[i].isAlive()) {
                int id = i + 1;
                io.tandem.bench.ThreadCpu.snapshot(processes[i].pid())
                        .forEach((group, seconds) -> all.put("server." + id + " " + group, seconds));
            }
        }
        return all;
    }

    double totalRssMib() throws IOException {
        double total = 0;
        for (ServerProcess process : processes) {
            if (process != null && process.isAlive()) {
                total += process.rssMib();
            }
        }
        return total;
    }

    /** Every node's mode as its srvr answer states it ("leader", "follower", ...), or why it could not say. */
    List<String> modes() {
        List<String> modes = new ArrayList<>();
        for (Node node : nodes) {
            try {
                modes.add(modeOf(fourLetterWord(node, "srvr")).orElse("no Mode line"));
            } catch (IOException e) {
                modes.add("unreachable (" + e.getMessage() + ")");
            }
        }
        return modes;
    }

    String describeModes() {
        List<String> modes = modes();
        return nodes.stream().map(n -> "server." + n.id + "=" + modes.get(n.id - 1)).collect(Collectors.joining(", "));
    }

    /** The node whose srvr answer says "Mode: leader", if exactly one does. */
    Optional<Node> leader() {
        List<String> modes = modes();
        List<Node> leaders = new ArrayList<>();
        for (Node node : nodes) {
            if (modes.get(node.id - 1).equals("leader")) {
                leaders.add(node);
            }
        }
        return leaders.size() == 1 ? Optional.of(leaders.get(0)) : Optional.empty();
    }

    /** True when one node leads, the other voters follow and the observers observe: a real ensemble. */
    boolean formed() {
        List<String> modes = modes();
        return modes.stream().filter("leader"::equals).count() == 1
                && modes.stream().filter("follower"::equals).count() == voters() - 1
                && modes.stream().filter("observer"::equals).count() == nodes.size() - voters();
    }

    int voters() {
        return (int) nodes.stream().filter(n -> !n.observer).count();
    }

    /** True when the nodes other than {@code down} have one leader and the rest following it, and serve clients. */
    boolean formedWithout(Node down) {
        int leaders = 0;
        int followers = 0;
        for (Node node : nodes) {
            if (node.id == down.id) {
                continue;
            }
            try {
                String mode = modeOf(fourLetterWord(node, "srvr")).orElse("");
                leaders += mode.equals("leader") ? 1 : 0;
                followers += mode.equals("follower") ? 1 : 0;
            } catch (IOException notAnswering) {
                return false;
            }
        }
        return leaders == 1 && followers == voters() - 2;
    }

    /** The Mode line of a srvr/stat answer, e.g. "leader" from "Mode: leader". */
    static Optional<String> modeOf(String srvrAnswer) {
        for (String line : srvrAnswer.split("\n")) {
            if (line.startsWith("Mode:")) {
                return Optional.of(line.substring("Mode:".length()).trim());
            }
        }
        return Optional.empty();
    }

    /** Sends a four-letter word on the client port and reads the answer until the server closes the connection. */
    static String fourLetterWord(Node node, String word) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", node.clientPort), 1000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[4096];
            for (int read; (read = in.read(chunk)) != -1; ) {
                answer.write(chunk, 0, read);
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (ServerProcess process : processes) {
            if (process != null) {
                process.close();
            }
        }
    }
}
