package io.tandem.server.zookeeper;

import io.tandem.server.ConfigException;
import io.tandem.server.ConfigKeys;
import io.tandem.server.TandemConfig;
import io.tandem.server.zab.QuorumFaults;
import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** Starts the ZooKeeper side of a Tandem node from its {@link TandemConfig}: zoo.cfg keys, data under dataDir/zookeeper. */
public final class ZooKeeperRole implements AutoCloseable {
    private static final String ANY_ADDRESS = "0.0.0.0";
    /** Under the ZooKeeper data dir: a member's state in Apache's quorum protocol (tandem.quorumProtocol=apache). */
    static final String APACHE_QUORUM_DIR = "apache-quorum";
    private final ZkServer server;
    private final AdminCommands admin;

    /** This member's myid in an ensemble; 0 for a standalone server. */
    private final int myId;

    private ZooKeeperRole(ZkServer server, AdminCommands.Ensemble ensemble, AdminSnapshots.Settings adminSnapshots) {
        this.server = server;
        this.myId = ensemble.myId();
        this.admin = new AdminCommands(server, ensemble, adminSnapshots);
    }

    public static ZooKeeperRole start(TandemConfig config) throws IOException {
        // A zoo.cfg dataDir names the ZooKeeper data directory itself; otherwise it lives under Tandem's data dir.
        String zooCfgDataDir = config.get("dataDir");
        Path dir = zooCfgDataDir != null ? Path.of(zooCfgDataDir) : config.dataDir().resolve("zookeeper");
        // Apache binds every interface unless clientPortAddress says otherwise (TandemConfig.forTests: loopback).
        String host = config.get("clientPortAddress", ANY_ADDRESS);
        int port = config.zookeeperPort();
        Map<String, String> servers = serverLines(config);
        int myId = 0;
        if (!servers.isEmpty()) {
            Files.createDirectories(dir);
            // A lone participant of a dynamic file runs standalone (DynamicConfigFile.lone); Apache then reads myid
            // only if the file is there, and without it serves where zoo.cfg says.
            boolean knownId = !DynamicConfigFile.lone(config.settings()) || config.get(ConfigKeys.MYID) != null
                    || Files.exists(dir.resolve("myid"));
            myId = knownId ? myId(config, dir) : 0;
            String[] client = clientAddress(config, myId, servers.get("server." + myId), host);
            if (client != null) {
                host = client[0];
                port = Integer.parseInt(client[1]);
            }
            if (DynamicConfigFile.lone(config.settings())) {
                servers = Map.of();
                myId = 0;
            }
        }
        ZkServerConfig zkConfig = ZkServerConfig.from(host, port, dir,
                key -> config.get(key, ZooKeeperConfigKeys.fromSystemProperty(key)));
        // zoo.cfg's DigestAuthenticationProvider.superDigest is Apache's system property of the longer name.
        String superDigest = config.get(Acls.SUPER_DIGEST_PROPERTY, config.get(ZooKeeperConfigKeys.SUPER_DIGEST,
                System.getProperty(Acls.SUPER_DIGEST_PROPERTY)));
        ZkSecurity security = ZkSecurity.from(config.settings(), host);
        AdminSnapshots.Settings adminSnapshots = AdminSnapshots.Settings.from(config::get);
        if (!servers.isEmpty()) {
            // server.N lines make this node a member of an ensemble; without them it stays standalone.
            Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(servers);
            checkPeerType(config, peers.get(myId));
            // Apache's FileTxnSnapLog checks on zoo.cfg's two directories: a member keeps its own files below them
            // (zab/, apache-quorum/), whose checks never look at the version-2 files an Apache server left.
            zkConfig.dirs().checkApacheFiles();
            if (ZkServerConfig.apacheQuorumProtocol(config::get)) {
                // Its own directory: the follower stores the leader's SNAP in Apache's body format, which a restart
                // in Tandem's protocol must never read as a Tandem snapshot.
                return new ZooKeeperRole(ZkServer.startApacheEnsemble(zkConfig, superDigest, security, myId,
                        config.settings(), dir.resolve(APACHE_QUORUM_DIR), config.configFile()),
                        ensemble(myId, servers), adminSnapshots);
            }
            ApacheDataDir.refuseUnimportedForEnsemble(dir, dir.resolve("zab"));
            return new ZooKeeperRole(ZkServer.startEnsemble(zkConfig, superDigest, security, myId, config.settings(),
                    dir.resolve("zab")), ensemble(myId, servers), adminSnapshots);
        }
        Files.createDirectories(dir);
        String storeKind = config.get(ConfigKeys.ZOOKEEPER_STORE, "disk");
        if (!storeKind.equals("memory")) {
            // Apache's version-2 files and no Tandem data yet: a user moving from Apache to Tandem on one dataDir.
            ApacheDataDir.importOnFirstStart(zkConfig.dirs());
        }
        ZkStore store = ZkStores.open(zkConfig.dirs(), storeKind, zkConfig.preAllocBytes());
        return new ZooKeeperRole(ZkServer.start(zkConfig, store, superDigest, security), config.initialText() == null
                ? AdminCommands.Ensemble.STANDALONE : new AdminCommands.Ensemble(0, Map.of(), config.initialText()),
                adminSnapshots);
    }

    private static AdminCommands.Ensemble ensemble(int myId, Map<String, String> servers) {
        Map<Integer, String> lines = new TreeMap<>();
        servers.forEach((key, line) -> lines.put(Integer.parseInt(key.substring("server.".length())), line));
        // Apache's quorum servers have no initial configuration to answer (null), only ZooKeeperServerMain has.
        return new AdminCommands.Ensemble(myId, lines, null);
    }

    private static Map<String, String> serverLines(TandemConfig config) {
        Map<String, String> servers = new TreeMap<>();
        for (Map.Entry<String, String> entry : config.settings().entrySet()) {
            if (entry.getKey().matches("server\\.\\d+")) {
                servers.put(entry.getKey(), entry.getValue());
            }
        }
        return servers;
    }

    /** The node id: a {@code myid} setting (--set myid=N) wins over the {@code myid} file in the data directory. */
    static int myId(TandemConfig config, Path dir) throws IOException {
        String value = config.get(ConfigKeys.MYID);
        String source = "the myid setting";
        if (value == null) {
            Path file = dir.resolve("myid");
            if (!Files.exists(file)) {
                throw new IllegalArgumentException("server.N lines are configured but this node has no id: write N to "
                        + file + " or pass --set myid=N");
            }
            value = Files.readString(file, StandardCharsets.US_ASCII);
            source = file.toString();
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + " does not hold a server id: '" + value.trim() + "'");
        }
    }

    /**
     * This member's own server line may name its client address ({@code ;[address:]port}, Apache 3.5+). Apache serves
     * clients there; Tandem serves them on clientPort / clientPortAddress, so the two must agree (Apache refuses
     * a disagreement too) rather than one of them being silently ignored.
     */
    /**
     * Where this member serves clients when its server.N line names a client address ({@code ;[host:]port}), as
     * Apache 3.9's QuorumPeerConfig.setupClientPort decides: the line wins, and zoo.cfg may only agree with it. A
     * specific {@code clientPortAddress} must be the line's address and port; a wildcard one (or none) only its port,
     * and then only when {@code clientPort} is set. Returns {host, port}, or null when the line names none.
     */
    private static String[] clientAddress(TandemConfig config, int myId, String line, String host) {
        if (line == null) return null;
        String[] client = QuorumTransport.Peer.clientAddress(myId, line);
        if (client == null) return null;
        String lineHost = client[0] == null ? ANY_ADDRESS : client[0];
        int linePort = Integer.parseInt(client[1]);
        boolean wildcard = isAnyLocal(host);
        boolean portSet = config.get("clientPort") != null;
        boolean agrees = wildcard ? !portSet || linePort == config.zookeeperPort()
                : sameAddress(host, lineHost) && linePort == config.zookeeperPort();
        if (!agrees) {
            // Apache's text, its addresses printed as its InetSocketAddresses print (the line's "0.0.0.0" when it
            // names only a port; zoo.cfg's the wildcard's own when clientPortAddress is not set).
            InetSocketAddress fromLine = new InetSocketAddress(lineHost, linePort);
            InetSocketAddress fromZooCfg = config.get("clientPortAddress") == null
                    ? new InetSocketAddress(config.zookeeperPort())
                    : new InetSocketAddress(host, config.zookeeperPort());
            throw new ConfigException(List.of("Configuration key 'server." + myId + "' (value '" + line
                    + "') cannot be used: client address for this server (id = " + myId + ") in static config file is "
                    + fromZooCfg + " is different from client address found in dynamic file: " + fromLine));
        }
        return new String[] {lineHost, client[1]};
    }

    private static boolean isAnyLocal(String host) {
        try {
            return InetAddress.getByName(host).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean sameAddress(String a, String b) {
        try {
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (UnknownHostException e) {
            return a.equals(b);
        }
    }

    /**
     * Apache decides a member's role by its server.N line; a {@code peerType} saying otherwise earns the warning
     * Apache's QuorumPeerConfig logs, and the line wins.
     */
    private static void checkPeerType(TandemConfig config, QuorumTransport.Peer me) {
        String peerType = config.get("peerType");
        if (peerType == null || me == null) return;
        String byServersList = me.observer() ? "observer" : "participant";
        if (!peerType.trim().equalsIgnoreCase(byServersList)) {
            System.getLogger(ZooKeeperRole.class.getName()).log(System.Logger.Level.WARNING,
                    "Peer type from servers list ({0}) doesn''t match peerType ({1}). Defaulting to servers list.",
                    byServersList.toUpperCase(java.util.Locale.ROOT), peerType.trim().toUpperCase(java.util.Locale.ROOT));
        }
    }

    public int port() {
        return server.port();
    }

    /** The secure (TLS) client port (secureClientPort), or -1 when there is none. */
    public int securePort() {
        return server.securePort();
    }

    /** Where the ZooKeeper data lives (transaction log and snapshots; Zab's files under zab/ in an ensemble). */
    public Path dataDir() {
        return server.config.dataDir();
    }

    /** Apache's AdminServer commands on this server (what {@code /commands/...} answers). */
    public AdminCommands adminCommands() {
        return admin;
    }

    /** mntr's figures under Apache's names (without {@code zk_}), read on the commit thread. */
    public CompletableFuture<Map<String, Object>> monitorValues() {
        return server.call(() -> FourLetterWords.monitorValues(server));
    }

    /** mntr's figures and Tandem's own (the metrics endpoint's), read on the commit thread. */
    public CompletableFuture<Map<String, Object>> metricValues() {
        return server.call(() -> FourLetterWords.metricValues(server));
    }

    /** Every client request is offered to {@code faults} (fault injection) before it is handled. */
    public void faults(ZkFaults faults) {
        server.faults = faults;
    }

    /** This member's myid in an ensemble, 0 for a standalone server. */
    public int myId() {
        return myId;
    }

    /**
     * The quorum links of this ensemble member that fault injection cuts (a network partition between members);
     * nothing on a standalone server, which has none.
     */
    public void quorumFaults(QuorumFaults faults) {
        if (server.commitPath() instanceof EnsembleCommit ensemble) ensemble.quorumFaults(faults);
    }

    /** Every answered request is reported to {@code observer} (the metrics), from the commit thread. */
    public void observe(ZkRequestObserver observer) {
        server.stats.observe(observer);
        if (server.commitPath() instanceof EnsembleCommit ensemble) ensemble.observeZabCommits(observer::zabCommitted);
    }

    @Override
    public void close() {
        server.close();
    }
}
