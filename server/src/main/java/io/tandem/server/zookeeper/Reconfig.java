package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import io.netty.buffer.Unpooled;
import io.tandem.server.zab.Members;
import io.tandem.server.zab.MembershipReader;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The reconfig operation (op 16) as Apache 3.9's PrepRequestProcessor judges it, in Apache's order: disabled
 * (ReconfigDisabled), standalone (Unimplemented), a reconfig not yet committed (ReconfigInProgress), {@code -from}
 * not the current version (BadVersion; -1 matches any), a malformed or too small new configuration (BadArguments),
 * no WRITE on {@code /zookeeper/config} (NoAuth; only the super user has it, the znode being world-readable only).
 *
 * Then, as Apache's leader: a new configuration without a connected and synced quorum of its voters (this leader
 * and the learners synced with it, {@link #syncedWithLeader}) is told NewConfigNoQuorum.
 *
 * <p>Any change is taken: re-stating the ensemble (a new version), adding or removing voters and observers, a
 * member's role (participant or observer), the whole set at once (bulk). Zab commits the transaction with a quorum of
 * the old voters and one of the new, and every member activates the new members as it commits it (see
 * {@code ZabMembership}); a leader that is no longer a voter then steps down and the new voters elect
 * one of their own, a member no longer named stops serving ({@code EnsembleMembers}).
 *
 * <p>The transaction is a SetDataTxn of the member lines without the version line: the version is the zxid of the
 * transaction itself (Apache sets it so), which only Zab knows once it commits; {@link #stamped} adds it then.
 */
final class Reconfig {
    /** Apache's dynamic configuration file name: the static file's name, this suffix and the version in hex. */
    static final String DYNAMIC_FILE_PREFIX = "zoo.cfg.dynamic.";
    private static final Logger LOG = System.getLogger(Reconfig.class.getName());
    /**
     * The SetDataTxn version (never a znode's: {@link #stamped} writes Apache's -1) that marks the establishing
     * transaction, whose configuration version is its epoch's first zxid rather than its own.
     */
    private static final int ESTABLISHING = -2;
    private static final long EPOCH_MASK = 0xffff_ffff_0000_0000L;

    private final boolean enabled;
    private final boolean ensemble;
    /**
     * On the leader: whether a server is this leader or a learner synced with it (Zab's view, published by its
     * thread). A joining server is not (it connects once the configuration naming it commits), so a reconfig whose
     * new voters are mostly new servers cannot commit and is refused, as Apache's isQuorumSynced refuses it.
     */
    private volatile IntPredicate syncedWithLeader = id -> true;

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
        DataNode node = tree.getNode(SpecialPaths.CONFIG);
        if (node == null || node.dataLength() > 0) {
            return; // null: a tree installed from a snapshot without the system znodes, filled by a later one
        }
        try {
            tree.setData(SpecialPaths.CONFIG, staticConfig.bytes(), -1, staticConfig.version(), nowMillis);
        } catch (ZkException e) {
            throw new IllegalStateException("the tree has no " + SpecialPaths.CONFIG, e);
        }
    }

    void syncedWithLeader(IntPredicate synced) {
        syncedWithLeader = synced;
    }

    /** Reconfig with the feature off: Apache answers before looking at the session. */
    void checkEnabled() throws ZkException {
        if (!enabled) {
            LOG.log(Level.DEBUG, "Reconfig operation requested but reconfig feature is disabled.");
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
            LOG.log(Level.INFO, () -> "Reconfiguration from version " + from + " failed -- last seen version is "
                    + current.version());
            throw new ZkException(KeeperCode.BAD_VERSION);
        }
        EnsembleConfig next = request.newMembers() != null ? bulk(request.newMembers())
                : incremental(current, request.joiningServers(), request.leavingServers());
        // Apache with standaloneEnabled=true (the only mode Tandem runs) wants two voters at least.
        if (next.votingCount() < 2) {
            LOG.log(Level.WARNING, "Reconfig failed - new configuration must include at least 2 followers");
            throw new ZkException(KeeperCode.BAD_ARGUMENTS);
        }
        Members members = members(next);
        long synced = Arrays.stream(members.voters()).filter(syncedWithLeader::test).count();
        if (synced < members.voters().length / 2 + 1) {
            LOG.log(Level.WARNING, "Reconfig failed - there must be a connected and synced quorum in new configuration");
            throw new ZkException(KeeperCode.NEW_CONFIG_NO_QUORUM);
        }
        Acls.check(acl, Perms.WRITE, authInfo);
        return new SetDataTxn(SpecialPaths.CONFIG, next.membersText().getBytes(StandardCharsets.UTF_8), -1);
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
                LOG.log(Level.WARNING, "Reconfig refused: hierarchical quorums are not implemented");
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
                    LOG.log(Level.WARNING, "Reconfig failed - Wrong format of server string: " + joiner.trim());
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS);
                }
                long id = number(parts[0].substring(parts[0].lastIndexOf('.') + 1).trim());
                String spec = specOrBadArguments(id, parts[1]);
                if (!EnsembleConfig.hasAllPorts(id, parts[1])) {
                    LOG.log(Level.WARNING, "Reconfig failed - Wrong format of server string - each server should have at least"
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
            LOG.log(Level.WARNING, "Reconfig failed - " + e.getMessage());
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
     * the configuration in force. A restart reads the newest of these files ({@link #withDynamicFile}); zoo.cfg,
     * and the file its {@code dynamicConfigFile} names, are left as the user wrote them.
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
                // Only older configurations: the next file (ApacheConfigFiles) holds a reconfig still pending.
                String suffix = file.getFileName().toString().substring(DYNAMIC_FILE_PREFIX.length());
                if (!file.equals(target) && suffix.matches("[0-9a-fA-F]+")) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /**
     * The zoo.cfg settings with the members of the newest dynamic configuration file in {@code dataDir}, if any: the
     * configuration this member last applied, as Apache's restart reads its dynamicConfigFile. Without it a member
     * restarted after a reconfig would count the voters of its zoo.cfg and not know a joiner (a reconfig still in its
     * log is pending until a leader commits it again, and that leader may need the joiner's vote). A member named in
     * both keeps its zoo.cfg line (its own way to reach it, e.g. through a proxy) in the file's role; one that only the
     * file names takes the file's line; one the file does not name is left out. A file that does not name this
     * member (it was removed) is ignored with a warning: the others refuse it anyway. When zoo.cfg names a dynamic
     * file ({@link DynamicConfigFile}), the newest file here wins only with a higher version, and then replaces it in
     * the settings (so the members' version is its).
     */
    static Map<String, String> withDynamicFile(Map<String, String> settings, Path dataDir, int myId)
            throws IOException {
        Path newest = null;
        long newestVersion = -1;
        if (Files.isDirectory(dataDir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir, DYNAMIC_FILE_PREFIX + "*")) {
                for (Path file : files) {
                    String suffix = file.getFileName().toString().substring(DYNAMIC_FILE_PREFIX.length());
                    try {
                        long version = Long.parseUnsignedLong(suffix, 16);
                        if (version > newestVersion) {
                            newest = file;
                            newestVersion = version;
                        }
                    } catch (NumberFormatException e) {
                        // a temporary file of an interrupted write: not a configuration
                    }
                }
            }
        }
        // zoo.cfg's own dynamicConfigFile wins unless this member applied a newer configuration since (a file
        // carried over from Apache with a newer version than Tandem's last one wins too).
        boolean named = settings.get(DynamicConfigFile.KEY) != null;
        if (newest == null || named && newestVersion <= DynamicConfigFile.version(settings)) {
            return settings;
        }
        Path found = newest;
        EnsembleConfig applied = EnsembleConfig.parse(Files.readAllBytes(found));
        if (applied == null || !applied.members().containsKey((long) myId)) {
            LOG.log(Level.WARNING, () -> "Server " + myId + " is not in " + found + ": starting with zoo.cfg's members");
            return settings;
        }
        Map<String, String> merged = new TreeMap<>(settings);
        merged.keySet().removeIf(key -> key.trim().matches("server\\.\\d+"));
        applied.members().forEach((id, spec) -> {
            String local = settings.get("server." + id);
            boolean observer = spec.contains(":observer");
            merged.put("server." + id, local == null ? spec : EnsembleMembers.withRole(local.trim(), observer));
        });
        if (named) {
            merged.put(DynamicConfigFile.KEY, found.toString()); // the members' file, and so their version
        }
        LOG.log(Level.INFO, () -> "Members from " + found.getFileName() + ": " + applied.members().keySet());
        return merged;
    }

    /** {@link #writeDynamicFile}; a failure is logged: the znode and Zab hold the configuration, the file is a copy. */
    static void writeDynamicFileOrWarn(Path dataDir, EnsembleConfig config) {
        try {
            writeDynamicFile(dataDir, config);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "writing the dynamic configuration file failed", e);
        }
    }

    /**
     * The new members a reconfig transaction (as the commit path logs it: header and SetDataTxn) carries, for Zab's
     * joint quorum and activation ({@link MembershipReader}); null for any other transaction.
     */
    static Members membersOf(byte[] txn) {
        JuteInput in = new JuteInput(Unpooled.wrappedBuffer(txn), Integer.MAX_VALUE);
        TxnHeader header = TxnHeader.read(in);
        if (header.type() != OpCode.RECONFIG) {
            return null;
        }
        byte[] text = SetDataTxn.read(in).data();
        EnsembleConfig config = EnsembleConfig.parse(text);
        if (config == null) {
            return null;
        }
        Members members = members(config);
        // The text goes with the members into Zab's notifications: a member adopting them learns the addresses too.
        return new Members(members.voters(), members.observers(), text);
    }

    /** A configuration's voters and observers by id, as Zab takes them. */
    static Members members(EnsembleConfig config) {
        int[] voters = config.members().entrySet().stream().filter(e -> !e.getValue().contains(":observer"))
                .mapToInt(e -> e.getKey().intValue()).toArray();
        int[] observers = config.members().entrySet().stream().filter(e -> e.getValue().contains(":observer"))
                .mapToInt(e -> e.getKey().intValue()).toArray();
        return new Members(voters, observers);
    }

    /**
     * On a new leader whose tree holds the static configuration (version 0): the transaction establishing its version
     * ({@link #establishing}), or null when the configuration has a version already.
     */
    static byte[] establishingTxn(DataTree tree, long nowMillis) {
        EnsembleConfig committed = EnsembleConfig.parse(tree.getNode(SpecialPaths.CONFIG).data());
        if (committed == null || committed.version() != 0) {
            return null;
        }
        return Jute.txnBytes(new TxnHeader(0, 0, 0, nowMillis, OpCode.RECONFIG), establishing(committed));
    }

    /**
     * The transaction by which a new leader gives a configuration without a version (zoo.cfg's static one) the zxid
     * its epoch starts at, as Apache's Leader does (ZOOKEEPER-1783), whether reconfig is enabled or not: an
     * established configuration then outranks the partial view of a server that is still joining. Being a
     * transaction, it reaches every member, also those that join later, with the same version.
     */
    static SetDataTxn establishing(EnsembleConfig committed) {
        return new SetDataTxn(SpecialPaths.CONFIG, committed.membersText().getBytes(StandardCharsets.UTF_8), ESTABLISHING);
    }
}
