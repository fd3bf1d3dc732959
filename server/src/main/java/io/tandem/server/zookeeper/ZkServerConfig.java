package io.tandem.server.zookeeper;

import io.tandem.server.zab.LogSyncStats;
import io.tandem.server.ConfigException;
import io.tandem.storage.zk.DataDirs;
import io.tandem.storage.zk.TxnLog;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The zoo.cfg keys the ZooKeeper server reads, with Apache's defaults. Relations between limits are checked once here.
 *
 * @param tickTimeMs              {@code tickTime}: the basic time unit; session timeouts are clamped to [2, 20] ticks
 * @param minSessionTimeoutMs     {@code minSessionTimeout} (default 2 x tickTime)
 * @param maxSessionTimeoutMs     {@code maxSessionTimeout} (default 20 x tickTime)
 * @param frameBytesMax           {@code jute.maxbuffer}: the largest request frame accepted
 * @param fourLetterWords         {@code 4lw.commands.whitelist} ("*" = all; default srvr)
 * @param containerCheckIntervalMs {@code znode.container.checkIntervalMs}: how often empty containers and expired TTL
 *                                nodes are looked for (Apache: 60000)
 * @param containerMaxNeverUsedMs {@code znode.container.maxNeverUsedIntervalMs}: 0 keeps never-used containers forever
 * @param containerMaxPerMinute   {@code znode.container.maxPerMinute}: a sweep's deletions go out 60000 / this many ms
 *                                apart (Apache: 10000, so 6 ms; above 60000 they go out together, as in Apache)
 * @param snapCount               {@code snapCount}: transactions between snapshots
 * @param maxClientConnections    {@code maxClientCnxns}: open connections per client address (0 = no limit)
 * @param globalOutstandingLimit  {@code globalOutstandingLimit}: above this many requests in flight, all connections
 *                                together, a connection with requests of its own in flight is not read (Apache: 1000)
 * @param handshakeTimeoutMs      {@code zookeeper.nio.sessionlessCnxnTimeout}: a connection that has not sent its
 *                                ConnectRequest by then is closed (Apache's NIO default: 10000)
 * @param reconfigEnabled         {@code reconfigEnabled}: whether the reconfig operation is served (Apache: false)
 * @param preAllocBytes           {@code preAllocSize} (KiB in the file, as Apache reads it; else the system property
 *                                {@code zookeeper.preAllocSize}, else 64 MiB): the transaction log grows in blocks of
 *                                this size; 0 or less turns preallocation off
 * @param fsyncWarningThresholdMs {@code fsync.warningthresholdms} (else the system property
 *                                {@code zookeeper.fsync.warningthresholdms}, else {@code fsync.warningthresholdms}, else
 *                                1000, as Apache's FileTxnLog reads it): a log fsync longer than this is warned about and
 *                                counted (server_stats' {@code fsync_threshold_exceed_count})
 * @param enforceQuota            {@code enforceQuota} (Apache's system property {@code zookeeper.enforceQuota}):
 *                                creates and sets past a hard quota are refused with QUOTA_EXCEEDED (Apache: false)
 */
public record ZkServerConfig(
        String host,
        int port,
        Path dataDir,
        Path dataLogDir,
        int tickTimeMs,
        int minSessionTimeoutMs,
        int maxSessionTimeoutMs,
        int frameBytesMax,
        Set<String> fourLetterWords,
        long containerCheckIntervalMs,
        long containerMaxNeverUsedMs,
        int containerMaxPerMinute,
        int snapCount,
        int maxClientConnections,
        int globalOutstandingLimit,
        int handshakeTimeoutMs,
        boolean reconfigEnabled,
        long preAllocBytes,
        long fsyncWarningThresholdMs,
        boolean enforceQuota) {

    public static final int TICK_TIME_MS_DEFAULT = 2000;
    public static final int FRAME_BYTES_MAX_DEFAULT = 0xfffff;
    /** Apache's ZooKeeperServerMain and QuorumPeer: {@code Integer.getInteger("znode.container.maxPerMinute", 10000)}. */
    public static final int CONTAINER_MAX_PER_MINUTE_DEFAULT = 10_000;
    public static final Set<String> ALL_FOUR_LETTER_WORDS = Set.of("conf", "cons", "crst", "dirs", "dump", "envi",
            "gtmk", "stmk", "ruok", "srvr", "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash");

    public ZkServerConfig {
        if (tickTimeMs <= 0) {
            throw new IllegalArgumentException("tickTime must be positive: " + tickTimeMs);
        }
        if (minSessionTimeoutMs > maxSessionTimeoutMs) {
            throw new IllegalArgumentException("minSessionTimeout " + minSessionTimeoutMs
                    + " must not exceed maxSessionTimeout " + maxSessionTimeoutMs);
        }
        if (frameBytesMax <= 0) {
            throw new IllegalArgumentException("jute.maxbuffer must be positive: " + frameBytesMax);
        }
        if (containerCheckIntervalMs <= 0) {
            throw new IllegalArgumentException("znode.container.checkIntervalMs must be positive");
        }
        if (containerMaxPerMinute <= 0) {
            // Apache divides a minute by it: 0 fails every sweep there, so no container would ever be deleted.
            throw new IllegalArgumentException("znode.container.maxPerMinute must be positive: "
                    + containerMaxPerMinute);
        }
        if (handshakeTimeoutMs <= 0) {
            throw new IllegalArgumentException("zookeeper.nio.sessionlessCnxnTimeout must be positive: "
                    + handshakeTimeoutMs);
        }
        fourLetterWords = Set.copyOf(fourLetterWords);
    }

    /** Builds the config from string settings (zoo.cfg keys); {@code get} returns null for absent keys. */
    public static ZkServerConfig from(String host, int port, Path dataDir, Function<String, String> get) {
        int tick = intOr(get, "tickTime", TICK_TIME_MS_DEFAULT);
        int min = intOr(get, "minSessionTimeout", -1);
        int max = intOr(get, "maxSessionTimeout", -1);
        String dataLogDir = get.apply("dataLogDir");
        return new ZkServerConfig(host, port, dataDir,
                dataLogDir == null || dataLogDir.isBlank() ? dataDir : Path.of(dataLogDir.trim()), tick, min == -1 ? 2 * tick : min, max == -1 ? 20 * tick : max,
                intOr(get, "jute.maxbuffer", FRAME_BYTES_MAX_DEFAULT),
                whitelist(get),
                longOr(get, "znode.container.checkIntervalMs", 60_000),
                longOr(get, "znode.container.maxNeverUsedIntervalMs", 0),
                intOr(get, "znode.container.maxPerMinute", CONTAINER_MAX_PER_MINUTE_DEFAULT),
                intOr(get, "snapCount", 100_000),
                intOr(get, "maxClientCnxns", 60),
                intOr(get, "globalOutstandingLimit", 1000),
                intOr(get, "zookeeper.nio.sessionlessCnxnTimeout", 10_000),
                Boolean.parseBoolean(String.valueOf(get.apply("reconfigEnabled")).trim()),
                preAllocBytes(get),
                // The setting or its zookeeper.* system property (ZooKeeperConfigKeys), else FileTxnLog's fallback.
                longOr(get, "fsync.warningthresholdms",
                        Long.getLong("fsync.warningthresholdms", LogSyncStats.FSYNC_WARNING_THRESHOLD_MS_DEFAULT)),
                Boolean.parseBoolean(String.valueOf(get.apply("enforceQuota")).trim()));
    }

    /** zoo.cfg's preAllocSize as Apache reads it (KiB; the file wins over the system property it becomes). */
    private static long preAllocBytes(Function<String, String> get) {
        try {
            return TxnLog.preAllocBytes(get.apply(TxnLog.PREALLOC_KEY));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(List.of("Configuration key '" + TxnLog.PREALLOC_KEY + "' (value '"
                    + get.apply(TxnLog.PREALLOC_KEY) + "') is not a number of KiB"));
        }
    }

    /** Where the files go: the transaction log under dataLogDir, the rest under dataDir ({@link DataDirs}). */
    public DataDirs dirs() {
        return new DataDirs(dataDir, dataLogDir);
    }

    public static ZkServerConfig forTests(Path dataDir) {
        return from("127.0.0.1", 0, dataDir, Map.<String, String>of()::get);
    }

    /** Apache's system property (and, here, zoo.cfg key) that lets a member cut off from its quorum serve reads. */
    public static final String READ_ONLY_MODE = "readonlymode.enabled";

    /**
     * Tandem's own zoo.cfg key: which quorum protocol an ensemble member speaks. {@code tandem} (the default): Tandem's
     * Zab with its own wire, for ensembles of Tandem members only. {@code apache}: Apache ZooKeeper 3.9's fast leader
     * election and leader/learner protocol, so the member sits in one ensemble with Apache servers (as a follower).
     */
    public static final String QUORUM_PROTOCOL = "tandem.quorumProtocol";
    public static final String QUORUM_PROTOCOL_TANDEM = "tandem";
    public static final String QUORUM_PROTOCOL_APACHE = "apache";

    /** Whether {@value #QUORUM_PROTOCOL} asks for Apache's protocol (values are checked at start-up). */
    public static boolean apacheQuorumProtocol(Function<String, String> get) {
        String value = get.apply(QUORUM_PROTOCOL);
        return value != null && value.trim().equalsIgnoreCase(QUORUM_PROTOCOL_APACHE);
    }

    /**
     * Whether read-only mode is on: Apache 3.9 reads only the Java system property {@value #READ_ONLY_MODE}; Tandem
     * also takes the same name from zoo.cfg (a zoo.cfg value wins over the property).
     */
    public static boolean readOnlyModeEnabled(Function<String, String> get) {
        String value = get.apply(READ_ONLY_MODE);
        return value != null ? Boolean.parseBoolean(value.trim()) : Boolean.getBoolean(READ_ONLY_MODE);
    }

    /** The whitelist, plus isro when read-only mode is on: clients ask it to find a read-write server, as in Apache. */
    private static Set<String> whitelist(Function<String, String> get) {
        Set<String> words = parseWhitelist(get.apply("4lw.commands.whitelist"));
        if (!readOnlyModeEnabled(get) || words.contains("isro")) {
            return words;
        }
        Set<String> withIsro = new LinkedHashSet<>(words);
        withIsro.add("isro");
        return withIsro;
    }

    static Set<String> parseWhitelist(String value) {
        if (value == null || value.isBlank()) {
            return Set.of("srvr");
        }
        Set<String> words = new LinkedHashSet<>();
        for (String word : value.split(",")) {
            String trimmed = word.trim().toLowerCase(Locale.ROOT);
            if (trimmed.equals("*")) {
                return ALL_FOUR_LETTER_WORDS;
            }
            if (ALL_FOUR_LETTER_WORDS.contains(trimmed)) {
                words.add(trimmed);
            }
        }
        return words;
    }

    private static int intOr(Function<String, String> get, String key, int fallback) {
        return (int) longOr(get, key, fallback, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    private static long longOr(Function<String, String> get, String key, long fallback) {
        return longOr(get, key, fallback, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** A number setting; one that is not a number of the key's range names the key, as Apache's start-up does. */
    private static long longOr(Function<String, String> get, String key, long fallback, long min, long max) {
        String value = get.apply(key);
        if (value == null) return fallback;
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed < min || parsed > max) throw new NumberFormatException();
            return parsed;
        } catch (NumberFormatException e) {
            throw new ConfigException(List.of("Configuration key '" + key + "' (value '" + value
                    + "') is not a number"));
        }
    }

    @Override
    public String toString() {
        return "ZkServerConfig[port=" + port + ", dataDir=" + dataDir + ", dataLogDir=" + dataLogDir + ", tickTime=" + tickTimeMs + ", sessionTimeout=["
                + minSessionTimeoutMs + ", " + maxSessionTimeoutMs + "], jute.maxbuffer=" + frameBytesMax
                + ", 4lw=" + Arrays.toString(fourLetterWords.toArray()) + "]";
    }
}
