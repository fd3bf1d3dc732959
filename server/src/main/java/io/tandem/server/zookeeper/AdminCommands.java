package io.tandem.server.zookeeper;

import io.tandem.zk.wire.FourLetterWord;
import io.tandem.server.zab.LogSyncStats;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.zk.wire.data.Id;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The commands of Apache ZooKeeper 3.9's AdminServer ({@code org.apache.zookeeper.server.admin.Commands}): the same
 * names and aliases, and answers with the same JSON keys, built from the figures the four-letter words report
 * ({@link FourLetterWords}, {@link ServerStats}). Each answer is a map ready for JSON: the command's data, then
 * {@code command} (its primary name) and {@code error} (null, or why it failed), in Apache's order, with an HTTP
 * status ({@link AdminResponse}). Commands that read the tree run on the commit thread; the rest on the caller's
 * thread. Snapshot and restore authenticate first ({@link AdminAuth}) and live in {@link AdminSnapshots}; the
 * replicated-state commands in {@link AdminStateCommands}. Figures Tandem does not measure are left out rather than
 * reported as a made-up zero (see server/README.md, "AdminServer").
 */
public final class AdminCommands {
    /** Runs a command once it is let through: the name it was asked by, its URL parameters and the POST body. */
    @FunctionalInterface
    private interface Runner {
        CompletableFuture<AdminResponse> run(String primary, Map<String, String> args, byte[] body);
    }

    /**
     * One command: its names (the first is primary), whether it needs a serving server, what it must be authorized
     * for (null: nothing), whether it takes POST (restore) rather than GET, and what it runs.
     */
    private record Command(List<String> names, boolean serverRequired, AdminAuth.Requirement auth, boolean post,
                           Runner runner) {
    }

    /**
     * The ensemble as configured: this member's id, the {@code server.N} lines (empty standalone) and what
     * {@code initial_configuration} answers: a standalone server's configuration text as read at start ("" when
     * embedded, as Apache's ZooKeeperServer), null on an ensemble member (Apache's quorum servers keep none).
     */
    public record Ensemble(int myId, Map<Integer, String> serverLines, String initialConfig) {
        public static final Ensemble STANDALONE = new Ensemble(0, Map.of(), "");

        boolean isStandalone() {
            return serverLines.isEmpty();
        }
    }

    private final ZkServer server;
    private final Ensemble ensemble;
    private final Map<String, Command> byName = new LinkedHashMap<>();

    AdminCommands(ZkServer server, Ensemble ensemble) {
        this(server, ensemble, AdminSnapshots.Settings.DEFAULT);
    }

    AdminCommands(ZkServer server, Ensemble ensemble, AdminSnapshots.Settings snapshotSettings) {
        this.server = server;
        this.ensemble = ensemble;
        add(List.of("connection_stat_reset", "crst"), true, true, args -> {
            for (ServerConnection connection : server.listener.connections()) connection.resetStats();
            return new LinkedHashMap<>();
        });
        add(List.of("configuration", "conf", "config"), true, false, args -> configuration());
        add(List.of("connections", "cons"), true, true, args -> connections(false));
        add(List.of("dirs"), true, false, args -> {
            Map<String, Object> data = new LinkedHashMap<>();
            // A log kept under dataDir is part of datadir_size (as the dirs word says); one in its own dataLogDir
            // is logdir_size.
            data.put("datadir_size", FourLetterWords.dirSize(server));
            data.put("logdir_size", FourLetterWords.separateLogDirSize(server));
            return data;
        });
        add(List.of("dump"), true, true, args -> dump());
        add(List.of("environment", "env", "envi"), false, false, args -> new LinkedHashMap<>(
                FourLetterWords.environment()));
        add(List.of("get_trace_mask", "gtmk"), false, false, args -> single("tracemask",
                FourLetterWords.traceMask()));
        add(List.of("is_read_only", "isro"), true, false,
                args -> single("read_only", server.mode().equals(EnsembleCommit.READ_ONLY_MODE)));
        add(List.of("leader", "lead"), true, true, args -> leader());
        add(List.of("monitor", "mntr"), false, true, args -> FourLetterWords.monitorValues(server));
        add(List.of("ruok"), true, false, args -> new LinkedHashMap<>());
        add(List.of("set_trace_mask", "stmk"), false, false, this::setTraceMask);
        add(List.of("server_stats", "srvr"), true, true, args -> serverStats());
        add(List.of("stats", "stat"), true, true, args -> {
            Map<String, Object> data = serverStats();
            data.putAll(connections(true));
            return data;
        });
        add(List.of("stat_reset", "srst"), true, true, args -> {
            server.stats.reset();
            return new LinkedHashMap<>();
        });
        add(List.of("system_properties", "sysp"), false, false, args -> {
            SortedMap<String, Object> sorted = new TreeMap<>();
            System.getProperties().forEach((key, value) -> sorted.put(key.toString(), value.toString()));
            return new LinkedHashMap<>(sorted);
        });
        add(List.of("voting_view"), true, false, args -> single("current_config", votingView()));
        add(List.of("watches", "wchc"), true, true, args -> single("session_id_to_watched_paths",
                FourLetterWords.watchesBySession(server)));
        add(List.of("watches_by_path", "wchp"), true, true, args -> single("path_to_session_ids",
                FourLetterWords.watchesByPath(server)));
        add(List.of("watch_summary", "wchs"), true, true, args -> {
            long[] summary = FourLetterWords.watchSummary(server);
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("num_connections", summary[0]);
            data.put("num_paths", summary[1]);
            data.put("num_total_watches", summary[2]);
            return data;
        });
        AdminStateCommands state = new AdminStateCommands(server, ensemble);
        add(List.of("hash"), true, true, args -> state.hash());
        add(List.of("initial_configuration", "icfg"), true, false, args -> state.initialConfiguration());
        add(List.of("last_snapshot", "lsnp"), true, false, args -> state.lastSnapshot());
        add(List.of("observer_connection_stat_reset", "orst"), true, false, args -> state.resetObserverStats());
        add(List.of("observers", "obsr"), true, false, args -> state.observers());
        add(List.of("zabstate"), false, true, args -> state.zabState());
        AdminSnapshots snapshots = new AdminSnapshots(server, snapshotSettings);
        register(new Command(List.of("snapshot", "snap"), true, AdminAuth.Requirement.ALL_ON_ROOT, false,
                (primary, args, body) -> snapshots.snapshot(primary, args)));
        register(new Command(List.of("restore", "rest"), true, AdminAuth.Requirement.ALL_ON_ROOT, true,
                (primary, args, body) -> snapshots.restore(primary, body)));
    }

    /** A GET command answering data, on the commit thread when it reads what the commit thread changes. */
    private void add(List<String> names, boolean serverRequired, boolean onCommitThread,
                     Function<Map<String, String>, Map<String, Object>> run) {
        register(new Command(names, serverRequired, null, false, (primary, args, body) -> onCommitThread
                ? server.call(() -> AdminResponse.ok(response(primary, run.apply(args), null)))
                : CompletableFuture.supplyAsync(() -> AdminResponse.ok(response(primary, run.apply(args), null)),
                        Runnable::run)));
    }

    private void register(Command command) {
        for (String name : command.names()) {
            if (byName.put(name, command) != null) throw new IllegalStateException("admin command " + name + " twice");
        }
    }

    /** The primary names, sorted, for the AdminServer's index page. */
    public List<String> primaryNames() {
        return byName.values().stream().map(command -> command.names().get(0)).distinct().sorted().toList();
    }

    /** Whether {@code name} is a command that takes a POST body (restore), for the AdminServer's body limit. */
    public boolean takesBody(String name) {
        Command command = byName.get(name);
        return command != null && command.post();
    }

    /** Runs a GET command without credentials (the JSON only); see {@link #get}. */
    public CompletableFuture<Map<String, Object>> run(String name, Map<String, String> args) {
        return get(name, args, null, null).thenApply(AdminResponse::json);
    }

    /** Runs a command asked for by HTTP GET; {@code authorization} is the header as sent (null when absent). */
    public CompletableFuture<AdminResponse> get(String name, Map<String, String> args, String authorization,
                                                String remoteIp) {
        return run(name, false, args, new byte[0], new AdminAuth.Caller(authorization, remoteIp));
    }

    /** Runs a command asked for by HTTP POST with {@code body}. */
    public CompletableFuture<AdminResponse> post(String name, byte[] body, String authorization, String remoteIp) {
        return run(name, true, Map.of(), body, new AdminAuth.Caller(authorization, remoteIp));
    }

    /**
     * Apache's runCommand: an unknown name, a server that is not serving, and a caller who is not authenticated or
     * not authorized are refused (200, 200, 401, 403) under the name asked for; a command asked by the wrong method
     * fails with 500 after authentication (Apache's servlet fails there too: GET restore, POST anything else).
     */
    private CompletableFuture<AdminResponse> run(String name, boolean post, Map<String, String> args, byte[] body,
                                                 AdminAuth.Caller caller) {
        Command command = byName.get(name);
        if (command == null) {
            return CompletableFuture.completedFuture(AdminResponse.refused(name, "Unknown command: " + name, 200));
        }
        if (command.serverRequired() && !isServing()) {
            return CompletableFuture.completedFuture(AdminResponse.refused(name, FourLetterWord.NOT_SERVING, 200));
        }
        CompletableFuture<AdminResponse> allowed;
        if (command.auth() == null) {
            allowed = CompletableFuture.completedFuture(null);
        } else {
            List<Id> ids;
            try {
                ids = AdminAuth.authenticate(caller, server.superDigest());
            } catch (AdminAuth.Refused refused) {
                return CompletableFuture.completedFuture(AdminResponse.refused(name, refused.getMessage(),
                        refused.status));
            }
            allowed = server.call(() -> {
                try {
                    AdminAuth.authorize(server.tree, ids, command.auth());
                    return null;
                } catch (AdminAuth.Refused refused) {
                    return AdminResponse.refused(name, refused.getMessage(), refused.status);
                }
            });
        }
        return allowed.thenCompose(refusal -> {
            if (refusal != null) return CompletableFuture.completedFuture(refusal);
            if (post != command.post()) {
                return CompletableFuture.completedFuture(AdminResponse.refused(name, "Command " + name
                        + " is run by HTTP " + (command.post() ? "POST" : "GET"), 500));
            }
            return command.runner().run(command.names().get(0), args, body);
        });
    }

    private boolean isServing() {
        return !server.mode().equals("looking");
    }

    /** Apache's CommandResponse.toMap: the data, then command and error (a data "error" keeps its place and wins). */
    static Map<String, Object> response(String command, Map<String, Object> data, String error) {
        Map<String, Object> map = new LinkedHashMap<>(data);
        map.put("command", command);
        map.put("error", error);
        map.putAll(data);
        return map;
    }

    private static Map<String, Object> single(String key, Object value) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put(key, value);
        return data;
    }

    private Map<String, Object> setTraceMask(Map<String, String> args) {
        String value = args.get("traceMask");
        if (value == null) return single("error", "setTraceMask requires long traceMask argument");
        try {
            long mask = Long.parseLong(value);
            FourLetterWords.traceMask(mask);
            return single("tracemask", mask);
        } catch (NumberFormatException e) {
            return single("error", "setTraceMask requires long traceMask argument, got " + value);
        }
    }

    /** Apache's ZooKeeperServerConf.toMap. */
    private Map<String, Object> configuration() {
        ZkServerConfig config = server.config;
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("client_port", server.port());
        data.put("data_dir", config.dataDir().toString());
        data.put("data_log_dir", config.dataLogDir().toString());
        data.put("tick_time", config.tickTimeMs());
        data.put("max_client_cnxns", config.maxClientConnections());
        data.put("min_session_timeout", config.minSessionTimeoutMs());
        data.put("max_session_timeout", config.maxSessionTimeoutMs());
        data.put("server_id", (long) ensemble.myId());
        // Tandem leaves the listen backlog to the OS default, which Apache reports as -1.
        data.put("client_port_listen_backlog", -1);
        return data;
    }

    /** srvr's JSON: Apache's ServerStats bean, the client response sizes and the node count. */
    private Map<String, Object> serverStats() {
        ServerStats stats = server.stats;
        long[] latency = stats.latency();
        Map<String, Object> responseSizes = new LinkedHashMap<>();
        responseSizes.put("last_buffer_size", stats.lastResponseBytes.get());
        responseSizes.put("min_buffer_size", stats.minResponseBytes.get());
        responseSizes.put("max_buffer_size", stats.maxResponseBytes.get());
        Map<String, Object> serverStats = new LinkedHashMap<>();
        serverStats.put("packets_sent", stats.packetsSent.get());
        serverStats.put("packets_received", stats.packetsReceived.get());
        // Fsyncs of the log longer than fsync.warningthresholdms; left out where there is no log (the simulator).
        LogSyncStats log = server.commitPath().logStats();
        if (log != null) serverStats.put("fsync_threshold_exceed_count", log.fsyncThresholdExceeded());
        serverStats.put("client_response_stats", responseSizes);
        serverStats.put("data_dir_size", FourLetterWords.dirSize(server));
        serverStats.put("log_dir_size", 0L);
        serverStats.put("last_processed_zxid", server.tree.lastProcessedZxid());
        serverStats.put("outstanding_requests", (long) server.queuedRequests());
        serverStats.put("server_state", server.mode());
        serverStats.put("avg_latency", stats.averageLatencyMs());
        serverStats.put("max_latency", latency[2]);
        serverStats.put("min_latency", latency[0]);
        serverStats.put("num_alive_client_connections", server.listener.connections().size());
        serverStats.put("uptime", System.currentTimeMillis() - stats.startedMillis);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("version", FourLetterWords.VERSION);
        data.put("read_only", false);
        data.put("server_stats", serverStats);
        data.put("client_response", responseSizes);
        // Apache's SrvrCommand adds its Leader's proposal sizes on a leader only (a BufferStats, as client_response).
        ProposalSizes proposals = server.commitPath().proposalSizes();
        if (proposals != null) {
            int[] lastMinMax = proposals.lastMinMax();
            Map<String, Object> proposalSizes = new LinkedHashMap<>();
            proposalSizes.put("last_buffer_size", lastMinMax[0]);
            proposalSizes.put("min_buffer_size", lastMinMax[1]);
            proposalSizes.put("max_buffer_size", lastMinMax[2]);
            data.put("proposal_stats", proposalSizes);
        }
        data.put("node_count", server.tree.nodeCount());
        return data;
    }

    /** cons (full) and stat (brief): Apache's ServerCnxn.getConnectionInfo per connection; there is no secure port. */
    private Map<String, Object> connections(boolean brief) {
        List<Map<String, Object>> connections = new ArrayList<>();
        for (ServerConnection connection : server.listener.connections()) {
            connections.add(connectionInfo(connection, brief));
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("connections", connections);
        data.put("secure_connections", List.of());
        return data;
    }

    private static Map<String, Object> connectionInfo(ServerConnection connection, boolean brief) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("remote_socket_address", address(connection.remoteAddress()));
        info.put("interest_ops", connection.isReading() ? 1 : 0);
        info.put("outstanding_requests", (long) connection.inFlight());
        info.put("packets_received", connection.packetsReceived.get());
        info.put("packets_sent", connection.packetsSent.get());
        if (!brief) {
            long[] latency = connection.latency();
            Session session = connection.session;
            info.put("session_id", connection.sessionId);
            info.put("last_operation", FourLetterWords.opName(connection.lastOp));
            info.put("established", connection.connectedMillis);
            info.put("session_timeout", session == null ? 0 : session.timeoutMs);
            info.put("last_cxid", (long) connection.lastCxid);
            info.put("last_zxid", connection.lastZxid);
            info.put("last_response_time", connection.lastResponseMillis);
            info.put("last_latency", connection.lastLatencyMs);
            info.put("min_latency", latency[0]);
            info.put("avg_latency", latency[1]);
            info.put("max_latency", latency[2]);
        }
        return info;
    }

    /** Apache's host:port, without InetSocketAddress's leading slash. */
    private static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** Sessions by the time they expire (rounded up to the next tick, as Apache's buckets are) and ephemerals. */
    private Map<String, Object> dump() {
        long nowMillis = System.currentTimeMillis();
        long nowNanos = System.nanoTime();
        long tick = Math.max(1, server.config.tickTimeMs());
        Map<Long, Set<Long>> byExpiry = new TreeMap<>();
        for (Session session : server.sessions.byId().values()) {
            long bucket = (session.expiresAtMillis(nowMillis, nowNanos) / tick + 1) * tick;
            byExpiry.computeIfAbsent(bucket, k -> new TreeSet<>()).add(session.id);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("expiry_time_to_session_ids", byExpiry);
        data.put("session_id_to_ephemeral_paths", new TreeMap<>(server.tree.allEphemerals()));
        return data;
    }

    /** Apache's leader command: this member's view of the leader (standalone: not initialized). */
    private Map<String, Object> leader() {
        if (ensemble.isStandalone()) return single("error", "server is not initialized");
        int leaderId = server.commitPath().leaderId();
        String line = ensemble.serverLines().get(leaderId);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("is_leader", server.mode().equals("leader"));
        data.put("leader_id", (long) leaderId);
        data.put("leader_ip", line == null ? "" : QuorumTransport.Peer.parse(leaderId, line).host());
        return data;
    }

    /** Apache's voting_view: each voter's quorum, election and client addresses (standalone: empty; no observers). */
    private Map<Long, Object> votingView() {
        Map<Long, Object> view = new TreeMap<>();
        ensemble.serverLines().forEach((id, line) -> {
            QuorumTransport.Peer peer = QuorumTransport.Peer.parse(id, line);
            if (peer.observer()) {
                return;
            }
            String[] client = QuorumTransport.Peer.clientAddress(id, line);
            Map<String, Object> server = new LinkedHashMap<>();
            server.put("server_addresses", List.of(peer.host() + ":" + peer.quorumPort()));
            server.put("election_addresses", peer.electionPort() < 0 ? List.of()
                    : List.of(peer.host() + ":" + peer.electionPort()));
            server.put("client_address", client == null ? ""
                    : (client[0] == null ? "0.0.0.0" : client[0]) + ":" + client[1]);
            server.put("learner_type", "participant");
            view.put((long) id, server);
        });
        return view;
    }
}
