package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.zk.wire.FourLetterWord;
import io.tandem.zk.wire.OpCode;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** The four-letter-word commands, with Apache 3.9's output formats. Run on the commit thread. */
final class FourLetterWords {
    static final String VERSION = "3.9.5-tandem, built on 01/01/2026 00:00 GMT";
    private static volatile long traceMask = 1298;

    static long traceMask() {
        return traceMask;
    }

    static void traceMask(long mask) {
        traceMask = mask;
    }

    /**
     * The words Apache answers with {@link FourLetterWord#NOT_SERVING} while no ZooKeeperServer runs (an ensemble
     * member without a leader): its commands that read the server's state check isZKServerRunning() first.
     */
    private static final Set<String> NEED_A_RUNNING_SERVER = Set.of("srvr", "stat", "mntr", "conf", "cons", "crst",
            "srst", "dump", "dirs", "wchs", "wchc", "wchp");

    static boolean needsTree(String word) {
        return switch (word) {
            case "ruok", "isro", "envi", "conf", "dirs", "gtmk", "stmk" -> false;
            default -> true;
        };
    }

    /**
     * Answers a four-letter word sent instead of a ConnectRequest (zk-wire's decoder recognised it) as text and closes
     * the connection, as Apache does. Words that read the tree run on the commit thread; the rest (DNS, disk walks)
     * must not hold it up. Telnet's Ctrl-C ("telnet close") just closes.
     */
    static void answer(ZkServer server, Channel channel, FourLetterWord word) {
        channel.config().setAutoRead(false);
        String command = word.command();
        if (!ZkServerConfig.ALL_FOUR_LETTER_WORDS.contains(command)) {
            channel.close();
            return;
        }
        long argument = word.traceMask();
        CompletableFuture<String> answer = needsTree(command)
                ? server.call(() -> run(server, command, argument))
                : CompletableFuture.supplyAsync(() -> run(server, command, argument));
        answer.whenComplete((text, failure) -> {
            String reply = failure != null ? "Error: " + failure.getMessage() + "\n" : text;
            channel.writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8))
                    .addListener(ChannelFutureListener.CLOSE);
        });
    }

    static String run(ZkServer server, String word, long argument) {
        if (!server.config.fourLetterWords().contains(word)) {
            return word + " is not executed because it is not in the whitelist.\n";
        }
        if (NEED_A_RUNNING_SERVER.contains(word) && server.mode().equals("looking")) {
            return FourLetterWord.NOT_SERVING + "\n";
        }
        return switch (word) {
            case "ruok" -> "imok";
            case "isro" -> isro(server.mode());
            case "srvr" -> srvr(server);
            case "stat" -> stat(server);
            case "mntr" -> mntr(server);
            case "conf" -> conf(server);
            case "envi" -> envi();
            case "cons" -> cons(server);
            case "crst" -> {
                for (ServerConnection connection : server.listener.connections()) {
                    connection.resetStats();
                }
                yield "Connection stats reset.\n";
            }
            case "srst" -> {
                server.stats.reset();
                yield "Server stats reset.\n";
            }
            case "dump" -> dump(server);
            case "dirs" -> "datadir_size: " + dirSize(server) + "\nlogdir_size: " + separateLogDirSize(server) + "\n";
            case "wchs" -> wchs(server);
            case "wchc" -> wchc(server);
            case "wchp" -> wchp(server);
            // Apache's TraceMaskCommand and SetTraceMaskCommand print the number without a newline.
            case "gtmk" -> Long.toString(traceMask);
            case "stmk" -> {
                traceMask = argument;
                yield Long.toString(argument);
            }
            case "hash" -> hash(server);
            default -> "";
        };
    }

    private static String serverSummary(ZkServer server) {
        long[] latency = server.stats.latency();
        return "Latency min/avg/max: " + latency[0] + "/" + (latency[3] == 0 ? 0.0 : (double) latency[4] / latency[3])
                + "/" + latency[2] + "\n"
                + "Received: " + server.stats.packetsReceived.get() + "\n"
                + "Sent: " + server.stats.packetsSent.get() + "\n"
                + "Connections: " + server.listener.connections().size() + "\n"
                + "Outstanding: " + server.queuedRequests() + "\n"
                + "Zxid: 0x" + Long.toHexString(server.tree.lastProcessedZxid()) + "\n"
                + "Mode: " + server.mode() + "\n"
                + "Node count: " + server.tree.nodeCount() + "\n";
    }

    /** Apache's IsroCommand: null while no server runs (an ensemble member looking), ro in read-only mode, else rw. */
    static String isro(String mode) {
        return switch (mode) {
            case "looking" -> "null";
            case EnsembleCommit.READ_ONLY_MODE -> "ro";
            default -> "rw";
        };
    }

    private static String srvr(ZkServer server) {
        return "Zookeeper version: " + VERSION + "\n" + serverSummary(server) + proposalSizes(server);
    }

    /**
     * Apache's StatCommand ends a leader's srvr and stat with its Leader's proposal sizes; no other server has any.
     * The sizes are Tandem's own PROPOSAL frames ({@link ProposalSizes}).
     */
    private static String proposalSizes(ZkServer server) {
        ProposalSizes sizes = server.commitPath().proposalSizes();
        return sizes == null ? "" : "Proposal sizes last/min/max: " + sizes + "\n";
    }

    private static String stat(ZkServer server) {
        StringBuilder text = new StringBuilder("Zookeeper version: " + VERSION + "\nClients:\n");
        for (ServerConnection connection : server.listener.connections()) {
            text.append(' ').append(address(connection.remoteAddress())).append("[1](queued=")
                    .append(connection.inFlight()).append(",recved=").append(connection.packetsReceived.get())
                    .append(",sent=").append(connection.packetsSent.get()).append(")\n");
        }
        return text.append('\n').append(serverSummary(server)).append(proposalSizes(server)).toString();
    }

    private static String cons(ZkServer server) {
        StringBuilder text = new StringBuilder();
        for (ServerConnection connection : server.listener.connections()) {
            long[] latency = connection.latency();
            Session session = connection.session;
            text.append(' ').append(address(connection.remoteAddress())).append("[1](queued=")
                    .append(connection.inFlight()).append(",recved=").append(connection.packetsReceived.get())
                    .append(",sent=").append(connection.packetsSent.get());
            if (session != null) {
                text.append(",sid=0x").append(Long.toHexString(session.id))
                        .append(",lop=").append(opName(connection.lastOp))
                        .append(",est=").append(connection.connectedMillis)
                        .append(",to=").append(session.timeoutMs)
                        .append(",lcxid=0x").append(Integer.toHexString(connection.lastCxid))
                        .append(",lzxid=0x").append(Long.toHexString(connection.lastZxid))
                        .append(",lresp=").append(connection.lastResponseMillis)
                        .append(",llat=").append(connection.lastLatencyMs)
                        .append(",minlat=").append(latency[0])
                        .append(",avglat=").append(latency[1])
                        .append(",maxlat=").append(latency[2]);
            }
            text.append(")\n");
        }
        return text.append('\n').toString();
    }

    private static String mntr(ZkServer server) {
        StringBuilder text = new StringBuilder();
        monitorValues(server).forEach((key, value) -> line(text, "zk_" + key, value));
        return text.toString();
    }

    /**
     * mntr's figures under Apache's names, without the {@code zk_} prefix the four-letter word adds (the AdminServer's
     * monitor command and the metrics use them as they are). Runs on the commit thread.
     */
    static Map<String, Object> monitorValues(ZkServer server) {
        long[] latency = server.stats.latency();
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("version", VERSION);
        values.put("server_state", server.mode());
        values.put("avg_latency", server.stats.averageLatencyMs());
        values.put("max_latency", latency[2]);
        values.put("min_latency", latency[0]);
        values.put("packets_received", server.stats.packetsReceived.get());
        values.put("packets_sent", server.stats.packetsSent.get());
        values.put("num_alive_connections", server.listener.connections().size());
        values.put("outstanding_requests", server.queuedRequests());
        values.put("znode_count", server.tree.nodeCount());
        values.put("watch_count", watchCount(server));
        values.put("ephemerals_count", server.tree.ephemeralCount());
        values.put("approximate_data_size", server.tree.approximateDataSize());
        values.put("global_sessions", server.sessions.byId().size());
        values.put("local_sessions", 0);
        values.put("uptime", System.currentTimeMillis() - server.stats.startedMillis);
        values.put("connection_drop_probability", 0.0);
        values.put("bytes_received_count", server.stats.bytesReceived.get());
        values.put("response_bytes", server.stats.bytesSent.get());
        values.put("last_client_response_size", server.stats.lastResponseBytes.get());
        values.put("min_client_response_size", server.stats.minResponseBytes.get());
        values.put("max_client_response_size", server.stats.maxResponseBytes.get());
        // The commit path and the summaries report under zk_ names; here they go without the prefix.
        java.util.function.BiConsumer<String, Object> unprefixed = (key, value) -> values.put(unprefixed(key), value);
        server.commitPath().reportStats(unprefixed);
        server.database.report(unprefixed);
        server.stats.readLatency.report(unprefixed);
        server.stats.updateLatency.report(unprefixed);
        server.tree.namespaces.report(unprefixed);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            values.put("open_file_descriptor_count", unix.getOpenFileDescriptorCount());
            values.put("max_file_descriptor_count", unix.getMaxFileDescriptorCount());
        }
        return values;
    }

    /**
     * What the metrics endpoint publishes: mntr's figures and Tandem's own that Apache's mntr has no key for (group
     * commit, Zab's counters), so mntr prints only Apache's keys. Runs on the commit thread.
     */
    static Map<String, Object> metricValues(ZkServer server) {
        Map<String, Object> values = monitorValues(server);
        server.commitPath().reportOwnStats((key, value) -> values.put(unprefixed(key), value));
        return values;
    }

    private static String unprefixed(String key) {
        return key.startsWith("zk_") ? key.substring(3) : key;
    }

    static long watchCount(ZkServer server) {
        return server.tree.watches.data.watchCount() + server.tree.watches.child.watchCount();
    }

    private static void line(StringBuilder text, String key, Object value) {
        text.append(key).append('\t').append(value).append('\n');
    }

    private static String conf(ZkServer server) {
        ZkServerConfig config = server.config;
        return "clientPort=" + server.port() + "\n"
                + "secureClientPort=" + server.securePort() + "\n"
                + "dataDir=" + config.dataDir() + "\n"
                + "dataDirSize=" + dirSize(server) + "\n"
                + "dataLogDir=" + config.dataLogDir() + "\n"
                + "dataLogSize=" + sizeOf(config.dataLogDir()) + "\n"
                + "tickTime=" + config.tickTimeMs() + "\n"
                + "maxClientCnxns=" + config.maxClientConnections() + "\n"
                + "minSessionTimeout=" + config.minSessionTimeoutMs() + "\n"
                + "maxSessionTimeout=" + config.maxSessionTimeoutMs() + "\n"
                + "clientPortListenBacklog=-1\n"
                + server.commitPath().confTail();
    }

    private static String envi() {
        StringBuilder text = new StringBuilder("Environment:\n");
        environment().forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        return text.toString();
    }

    /** Apache's Environment.list(): what envi prints and the AdminServer's environment command answers. */
    static Map<String, String> environment() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("zookeeper.version", VERSION);
        String host;
        try {
            host = InetAddress.getLocalHost().getCanonicalHostName();
        } catch (Exception e) {
            host = "<NA>";
        }
        values.put("host.name", host);
        for (String key : List.of("java.version", "java.vendor", "java.home", "java.class.path", "java.library.path",
                "java.io.tmpdir")) {
            values.put(key, System.getProperty(key, "<NA>"));
        }
        values.put("java.compiler", "<NA>");
        for (String key : List.of("os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir")) {
            values.put(key, System.getProperty(key, "<NA>"));
        }
        Runtime runtime = Runtime.getRuntime();
        values.put("os.memory.free", runtime.freeMemory() / (1024 * 1024) + "MB");
        values.put("os.memory.max", runtime.maxMemory() / (1024 * 1024) + "MB");
        values.put("os.memory.total", runtime.totalMemory() / (1024 * 1024) + "MB");
        return values;
    }

    private static String dump(ZkServer server) {
        StringBuilder text = new StringBuilder("SessionTracker dump:\n");
        text.append("Session Sets (").append(server.sessions.byId().size()).append(")/(").append(server.sessions.byId().size())
                .append("):\n");
        for (Session session : server.sessions.byId().values()) {
            text.append("\t0x").append(Long.toHexString(session.id)).append('\n');
        }
        Map<Long, Set<String>> ephemerals = server.tree.allEphemerals();
        text.append("ephemeral nodes dump:\nSessions with Ephemerals (").append(ephemerals.size()).append("):\n");
        ephemerals.forEach((session, paths) -> {
            text.append("0x").append(Long.toHexString(session)).append(":\n");
            for (String path : paths) {
                text.append('\t').append(path).append('\n');
            }
        });
        text.append("Connections with Ephemerals (").append(ephemerals.size()).append("):\n");
        return text.toString();
    }

    private static String wchs(ZkServer server) {
        long[] summary = watchSummary(server);
        return summary[0] + " connections watching " + summary[1] + " paths\nTotal watches:" + summary[2] + "\n";
    }

    /** wchs's figures: connections watching, paths watched, watches in total. */
    static long[] watchSummary(ZkServer server) {
        Set<Watcher> watchers = new java.util.HashSet<>(server.tree.watches.data.byWatcher().keySet());
        watchers.addAll(server.tree.watches.child.byWatcher().keySet());
        Set<String> paths = new java.util.HashSet<>(server.tree.watches.data.byPath().keySet());
        paths.addAll(server.tree.watches.child.byPath().keySet());
        return new long[] {watchers.size(), paths.size(), watchCount(server)};
    }

    private static String wchc(ZkServer server) {
        StringBuilder text = new StringBuilder();
        watchesBySession(server).forEach((session, paths) -> {
            text.append("0x").append(Long.toHexString(session)).append('\n');
            for (String path : paths) {
                text.append('\t').append(path).append('\n');
            }
        });
        return text.toString();
    }

    /** wchc's figures: the paths each session watches. */
    static Map<Long, Set<String>> watchesBySession(ZkServer server) {
        Map<Long, Set<String>> bySession = new java.util.TreeMap<>();
        for (WatchManager manager : List.of(server.tree.watches.data, server.tree.watches.child)) {
            manager.byWatcher().forEach((watcher, paths) -> bySession
                    .computeIfAbsent(((ServerConnection) watcher).sessionId, k -> new java.util.TreeSet<>())
                    .addAll(paths));
        }
        return bySession;
    }

    /** wchp's figures: the sessions watching each path. */
    static Map<String, Set<Long>> watchesByPath(ZkServer server) {
        Map<String, Set<Long>> byPath = new java.util.TreeMap<>();
        for (WatchManager manager : List.of(server.tree.watches.data, server.tree.watches.child)) {
            manager.byPath().forEach((path, watchers) -> {
                Set<Long> sessions = byPath.computeIfAbsent(path, k -> new java.util.TreeSet<>());
                for (Watcher watcher : watchers) {
                    sessions.add(((ServerConnection) watcher).sessionId);
                }
            });
        }
        return byPath;
    }

    private static String wchp(ZkServer server) {
        StringBuilder text = new StringBuilder();
        watchesByPath(server).forEach((path, sessions) -> {
            text.append(path).append('\n');
            for (long session : sessions) {
                text.append("\t0x").append(Long.toHexString(session)).append('\n');
            }
        });
        return text.toString();
    }

    /**
     * Apache's DigestCommand: the digest log ({@link DigestHistory}), one "zxid-in-hex: digest" line an entry; a member
     * without a leader has no running server to ask, and says so (without a newline, as Apache prints it).
     */
    private static String hash(ZkServer server) {
        if (server.mode().equals("looking")) return FourLetterWord.NOT_SERVING;
        StringBuilder text = new StringBuilder();
        for (DigestHistory.Entry entry : server.tree.digestHistory.entries()) {
            text.append(Long.toHexString(entry.zxid())).append(": ").append(entry.digest()).append('\n');
        }
        return text.toString();
    }

    static long dirSize(ZkServer server) {
        return sizeOf(server.config.dataDir());
    }

    /** The bytes in a dataLogDir set apart from dataDir; 0 when the log lives under dataDir (counted there). */
    static long separateLogDirSize(ZkServer server) {
        return server.config.dirs().separate() ? sizeOf(server.config.dataLogDir()) : 0;
    }

    private static long sizeOf(java.nio.file.Path dir) {
        try (var files = java.nio.file.Files.walk(dir)) {
            return files.filter(java.nio.file.Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (Exception e) {
            return 0;
        }
    }

    private static String address(SocketAddress address) {
        return String.valueOf(address);
    }

    static String opName(int op) {
        return switch (op) {
            case OpCode.PING -> "PING";
            case OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER -> "CREA";
            case OpCode.DELETE -> "DELE";
            case OpCode.SET_DATA -> "SETD";
            case OpCode.GET_DATA -> "GETD";
            case OpCode.EXISTS -> "EXIS";
            case OpCode.GET_CHILDREN, OpCode.GET_CHILDREN2 -> "GETC";
            case OpCode.MULTI -> "MULT";
            case OpCode.SET_WATCHES, OpCode.SET_WATCHES2 -> "SETW";
            case OpCode.SYNC -> "SYNC";
            case OpCode.CLOSE_SESSION -> "CLOS";
            case OpCode.RECONFIG -> "RECO"; // Apache FinalRequestProcessor's lastOp
            default -> "NA";
        };
    }

    static String formatDate(long millis) {
        return new SimpleDateFormat("yyyy-MM-dd HH:mm:ss").format(new Date(millis));
    }

    private FourLetterWords() {
    }
}
