package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * The reconfig operation (op 16) as Apache 3.9's PrepRequestProcessor judges it, in Apache's order: disabled
 * (ReconfigDisabled), standalone (Unimplemented), a reconfig not yet committed (ReconfigInProgress), {@code -from}
 * not the current version (BadVersion; -1 matches any), a malformed or too small new configuration (BadArguments),
 * no WRITE on {@code /zookeeper/config} (NoAuth; only the super user has it, the znode being world-readable only).
 *
 * <p>Tandem applies a new configuration when its voters are the current ones: a reconfig that re-states the ensemble
 * (it gets a new version, the znode and its watchers see it), or one that adds or removes observers (every member's
 * Zab and quorum transport take the new observers as it applies the commit, see {@code EnsembleCommit}). Changing
 * the voters needs Zab to change its quorum, which it cannot yet, so such a reconfig is refused with Unimplemented
 * (Apache's own answer where it cannot reconfigure) after every check above: it is never acknowledged without being
 * applied.
 *
 * <p>The transaction is a SetDataTxn of the member lines without the version line: the version is the zxid of the
 * transaction itself (Apache sets it so), which only Zab knows once it commits; {@link #stamped} adds it then.
 */
final class Reconfig {
    static final String CONFIG_PATH = "/zookeeper/config";
    /** Apache's dynamic configuration file name: the static file's name, this suffix and the version in hex. */
    static final String DYNAMIC_FILE_PREFIX = "zoo.cfg.dynamic.";
    private static final Logger LOG = Logger.getLogger(Reconfig.class.getName());
    /**
     * The SetDataTxn version (never a znode's: {@link #stamped} writes Apache's -1) that marks the establishing
     * transaction, whose configuration version is its epoch's first zxid rather than its own.
     */
    private static final int ESTABLISHING = -2;
    private static final long EPOCH_MASK = 0xffff_ffff_0000_0000L;

    private final boolean enabled;
    private final boolean ensemble;
    /**
     * Test hook: whether a reconfig that changes the voters is prepared (and so committed and acknowledged) although
     * Zab keeps its voters. The simulator's mutation test sets it, which its reconfig checker must catch; production
     * never does.
     */
    boolean acceptsMemberChanges;

    /**
     * @param enabled  zoo.cfg's {@code reconfigEnabled} (Apache's default: false)
     * @param ensemble whether this server is a member of an ensemble (a standalone server cannot reconfigure)
     */
    Reconfig(boolean enabled, boolean ensemble) {
        this.enabled = enabled;
        this.ensemble = ensemble;
    }

    /**
     * Apache's ZKDatabase.initConfigInZKDatabase: a member's {@code /zookeeper/config} holds the configuration it was
     * started with until a reconfig (or a snapshot from a leader that saw one) replaces it. A snapshot written before
     * the znode was filled brings it back empty, so it is filled again then.
     */
    static void initConfigNode(DataTree tree, EnsembleConfig staticConfig, long nowMillis) {
        DataNode node = tree.getNode(CONFIG_PATH);
        if (node == null || node.dataLength() > 0) {
            return; // null: a tree installed from a snapshot without the system znodes, filled by a later one
        }
        try {
            tree.setData(CONFIG_PATH, staticConfig.bytes(), -1, staticConfig.version(), nowMillis);
        } catch (ZkException e) {
            throw new IllegalStateException("the tree has no " + CONFIG_PATH, e);
        }
    }

    /** Reconfig with the feature off: Apache answers before looking at the session. */
    void checkEnabled() throws ZkException {
        if (!enabled) {
            LOG.fine("Reconfig operation requested but reconfig feature is disabled.");
            throw new ZkException(KeeperCode.RECONFIG_DISABLED);
        }
    }

    /**
     * The transaction of a reconfig request, or the error Apache answers.
     *
     * @param current    the committed configuration (the znode's), null when the znode is empty
     * @param inProgress whether a reconfig is prepared and not yet committed
     * @param acl        the ACL of {@code /zookeeper/config}
     */
    SetDataTxn prepare(ReconfigRequest request, EnsembleConfig current, boolean inProgress, List<ACL> acl,
                       List<Id> authInfo) throws ZkException {
        if (!ensemble || current == null) {
            throw new ZkException(KeeperCode.UNIMPLEMENTED); // Apache: "standalone mode - not supported"
        }
        if (inProgress) {
            throw new ZkException(KeeperCode.RECONFIG_IN_PROGRESS);
        }
        long from = request.curConfigId();
        if (from != -1 && from != current.version()) {
            LOG.info(() -> "Reconfiguration from version " + from + " failed -- last seen version is "
                    + current.version());
            throw new ZkException(KeeperCode.BAD_VERSION);
        }
        EnsembleConfig next = request.newMembers() != null ? bulk(request.newMembers())
                : incremental(current, request.joiningServers(), request.leavingServers());
        // Apache with standaloneEnabled=true (the only mode Tandem runs) wants two voters at least.
        if (next.votingCount() < 2) {
            LOG.warning("Reconfig failed - new configuration must include at least 2 followers");
            throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        }
        Acls.check(acl, Perms.WRITE, authInfo);
        if (!changesOnlyObservers(current, next) && !acceptsMemberChanges) {
            LOG.warning(() -> "Reconfig refused: changing the ensemble's voters (to " + next.members()
                    + " from " + current.members() + ") is not implemented by Tandem");
            throw new ZkException(KeeperCode.UNIMPLEMENTED);
        }
        return new SetDataTxn(CONFIG_PATH, next.membersText().getBytes(StandardCharsets.UTF_8), -1);
    }

    /**
     * Whether {@code next} keeps every voter's line as it is and changes observers only by adding or removing them.
     * Observers count in no quorum, so Zab takes such a change on each member as it applies the commit; changing the
     * voters (or a member's role or addresses) needs the joint quorum of the old and the new configuration.
     */
    static boolean changesOnlyObservers(EnsembleConfig current, EnsembleConfig next) {
        for (Map.Entry<Long, String> member : current.members().entrySet()) {
            String after = next.members().get(member.getKey());
            boolean observer = member.getValue().contains(":observer");
            if (after == null ? !observer : !after.equals(member.getValue())) {
                return false;
            }
        }
        for (Map.Entry<Long, String> member : next.members().entrySet()) {
            if (!current.members().containsKey(member.getKey()) && !member.getValue().contains(":observer")) {
                return false;
            }
        }
        return true;
    }

    /** Non-incremental: the new members listed whole, separated by commas or new lines (Apache's Properties form). */
    private static EnsembleConfig bulk(String newMembers) throws ZkException {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(newMembers.replace(",", "\n")));
        } catch (IOException | IllegalArgumentException e) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        }
        Map<Long, String> members = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            String trimmed = key.trim();
            if (trimmed.startsWith("server.")) {
                long id = serverId(trimmed);
                members.put(id, specOrBadArguments(id, properties.getProperty(key)));
            } else if (trimmed.startsWith("group") || trimmed.startsWith("weight")) {
                LOG.warning("Reconfig refused: hierarchical quorums are not implemented");
                throw new ZkException(KeeperCode.BAD_ARGUMENTS);
            }
        }
        return new EnsembleConfig(members, 0);
    }

    /** Incremental: members leave by id, join (or change) by {@code server.N=spec} lines, comma separated. */
    private static EnsembleConfig incremental(EnsembleConfig current, String joining, String leaving)
            throws ZkException {
        Map<Long, String> members = new TreeMap<>(current.members());
        if (leaving != null) {
            for (String id : leaving.split(",")) {
                if (!id.isBlank()) {
                    members.remove(number(id.trim()));
                }
            }
        }
        if (joining != null) {
            for (String joiner : joining.split(",")) {
                if (joiner.isBlank()) {
                    continue;
                }
                String[] parts = joiner.trim().split("=");
                if (parts.length != 2) {
                    LOG.warning("Reconfig failed - Wrong format of server string: " + joiner.trim());
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS);
                }
                long id = number(parts[0].substring(parts[0].lastIndexOf('.') + 1).trim());
                String spec = specOrBadArguments(id, parts[1]);
                if (!EnsembleConfig.hasAllPorts(id, parts[1])) {
                    LOG.warning("Reconfig failed - Wrong format of server string - each server should have at least"
                            + " 3 ports specified: " + joiner.trim());
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS);
                }
                members.put(id, spec);
            }
        }
        return new EnsembleConfig(members, 0);
    }

    private static long serverId(String key) throws ZkException {
        return number(key.substring("server.".length()));
    }

    private static long number(String text) throws ZkException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        }
    }

    private static String specOrBadArguments(long id, String value) throws ZkException {
        try {
            return EnsembleConfig.spec(id, value.trim());
        } catch (IllegalArgumentException e) {
            LOG.warning("Reconfig failed - " + e.getMessage());
            throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        }
    }

    /**
     * The committed transaction with the configuration's version, which is its zxid (Apache: qv.setVersion of the
     * reconfig's zxid). A transaction that names its version already (see {@link EnsembleConfig}) keeps it.
     */
    static SetDataTxn stamped(SetDataTxn txn, long zxid) {
        EnsembleConfig config = EnsembleConfig.parse(txn.data());
        if (config == null) {
            return txn;
        }
        long version = txn.version() == ESTABLISHING ? zxid & EPOCH_MASK : zxid;
        return new SetDataTxn(txn.path(), config.withVersion(version).bytes(), -1);
    }

    /**
     * Writes a committed configuration as Apache's dynamic configuration file, {@code zoo.cfg.dynamic.<version>} with
     * the member lines (Apache's QuorumPeerConfig.writeDynamicConfig leaves the version to the name), into the
     * member's ZooKeeper data directory: Tandem reads its configuration from merged files and flags, so there is no
     * one zoo.cfg to point at it. The file is replaced atomically and older ones are deleted, so the directory holds
     * the configuration in force. Tandem itself restarts from the {@code /zookeeper/config} znode its snapshot and
     * log restore, not from this file (zoo.cfg's {@code dynamicConfigFile} stays refused at start-up).
     */
    static void writeDynamicFile(Path dataDir, EnsembleConfig config) throws IOException {
        String name = DYNAMIC_FILE_PREFIX + Long.toHexString(config.version());
        Path target = dataDir.resolve(name);
        Path temporary = dataDir.resolve(name + ".tmp");
        Files.writeString(temporary, config.membersText(), StandardCharsets.UTF_8);
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(temporary,
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (DirectoryStream<Path> older = Files.newDirectoryStream(dataDir, DYNAMIC_FILE_PREFIX + "*")) {
            for (Path file : older) {
                if (!file.equals(target)) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /**
     * The transaction by which a new leader gives a configuration without a version (zoo.cfg's static one) the zxid
     * its epoch starts at, as Apache's Leader does (ZOOKEEPER-1783), whether reconfig is enabled or not: an
     * established configuration then outranks the partial view of a server that is still joining. Being a
     * transaction, it reaches every member, also those that join later, with the same version.
     */
    static SetDataTxn establishing(EnsembleConfig committed) {
        return new SetDataTxn(CONFIG_PATH, committed.membersText().getBytes(StandardCharsets.UTF_8), ESTABLISHING);
    }
}
