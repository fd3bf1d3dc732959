package io.tandem.server.zookeeper;

import io.tandem.server.zab.apache.ApacheConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The configuration files an Apache ZooKeeper 3.9 member keeps, for a member speaking Apache's quorum protocol, so
 * its zoo.cfg and data directory go back to an Apache server as they would have been left by one:
 * <ul>
 * <li>each configuration activated (QuorumPeer.setQuorumVerifier with writeToDisk) is written as
 *     {@code <zoo.cfg>.dynamic.<version>} (QuorumPeerConfig.writeDynamicConfig: the member lines sorted as strings,
 *     no version line) and zoo.cfg is rewritten to point at it (editStaticConfig: member, group, weight, peerType and
 *     the old dynamicConfigFile lines dropped, clientPort and clientPortAddress too when this member's line names its
 *     client address, the other keys kept in {@link Properties} order, then {@code dynamicConfigFile=} with the
 *     file's canonical path);</li>
 * <li>each reconfig logged but not committed, and the configuration NEWLEADER carries
 *     (setLastSeenQuorumVerifier with writeToDisk), is written as {@code <zoo.cfg>.dynamic.next}, with its version
 *     line; an activation of that version deletes it;</li>
 * <li>at start-up a {@code .dynamic.next} is read as QuorumPeerConfig.parse reads it (only when zoo.cfg names a
 *     dynamicConfigFile) and then deleted (read or not) as QuorumPeerMain's first setQuorumVerifier deletes it; with
 *     reconfigEnabled one of a newer version than the configuration in force is this member's last seen
 *     configuration ({@link #startUp}).</li>
 * </ul>
 * Without one zoo.cfg to write beside (the node was started on several files or through the API), the dynamic files
 * go into the ZooKeeper data directory ({@link Reconfig#writeDynamicFile}) and {@code .dynamic.next} beside them.
 * Without reconfigEnabled nothing is written, as Apache's processReconfig and setLastSeenQuorumVerifier write
 * nothing then.
 *
 * <p>Called from the follower's thread (proposals) and the commit thread (activations): synchronized, as Apache's
 * QV_LOCK orders the two.
 */
final class ApacheConfigFiles {
    private static final Logger LOG = System.getLogger(ApacheConfigFiles.class.getName());
    /** Apache's QuorumPeerConfig.nextDynamicConfigFileSuffix. */
    static final String NEXT_SUFFIX = DynamicConfigFile.NEXT_SUFFIX;

    private final Path dataDir;
    /** zoo.cfg's path, null when the node names no one zoo.cfg. */
    private final Path zooCfg;
    private final long myId;
    private final boolean reconfigEnabled;
    /** zoo.cfg's dynamicConfigFile as the node was started (before a newer file in the data directory replaced it). */
    private final String namedDynamicFile;
    /** The version of Apache's lastSeenQuorumVerifier: an activation of this version deletes the next file. */
    private long lastSeenVersion = -1;
    /** The version of the configuration in force: setQuorumVerifier writes nothing for it or an older one. */
    private long activeVersion = -1;

    /**
     * @param named the settings as read, with zoo.cfg's own dynamicConfigFile if it names one
     */
    ApacheConfigFiles(Path dataDir, Path zooCfg, long myId, Map<String, String> named) {
        this.dataDir = dataDir;
        this.zooCfg = zooCfg == null ? null : zooCfg.toAbsolutePath();
        this.myId = myId;
        this.reconfigEnabled = Boolean.parseBoolean(String.valueOf(named.get("reconfigEnabled")).trim());
        String file = named.get(DynamicConfigFile.KEY);
        this.namedDynamicFile = file == null ? null : file.trim();
    }

    /** Apache's getNextDynamicConfigFilename: beside zoo.cfg; without one, beside the dynamic files Tandem writes. */
    Path nextFile() {
        if (zooCfg != null) {
            return Path.of(zooCfg + NEXT_SUFFIX);
        }
        Path derived = namedDynamicFile == null ? null
                : DynamicConfigFile.nextFile(Map.of(DynamicConfigFile.KEY, namedDynamicFile));
        return derived != null ? derived : dataDir.resolve(Reconfig.DYNAMIC_FILE_PREFIX + "next");
    }

    /**
     * Start-up, as QuorumPeerConfig.parse and QuorumPeerMain.runFromConfig run it: the next file is read when zoo.cfg
     * names a dynamic file (Tandem's own in the data directory is read too: it is where this member put it), then
     * deleted (the first setQuorumVerifier finds the committed configuration is the last seen one); with
     * reconfigEnabled a configuration it held of a newer version than {@code inForce} is returned as this member's
     * last seen one (setLastSeenQuorumVerifier without writing), which a leadership completes as Apache's does.
     * Null otherwise (an older one is Apache's stale case, logged with its error).
     */
    synchronized ApacheConfig startUp(long inForce) {
        lastSeenVersion = inForce;
        if (zooCfg != null && namedDynamicFile == null && reconfigEnabled) {
            backupStaticConfig();
        }
        activeVersion = inForce;
        Path next = nextFile();
        if (zooCfg != null && namedDynamicFile == null || !Files.exists(next)) {
            delete(next); // not read without a dynamicConfigFile, but setQuorumVerifier deletes it all the same
            return null;
        }
        ApacheConfig seen = null;
        try {
            Properties lines = new Properties();
            try (InputStream in = Files.newInputStream(next)) {
                lines.load(in);
            }
            StringBuilder text = new StringBuilder();
            lines.forEach((key, value) -> text.append(key.toString().trim()).append('=')
                    .append(value.toString().trim()).append('\n'));
            seen = ApacheConfig.parse(text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "NextQuorumVerifier is initiated to null");
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, () -> next + " is not a configuration Tandem runs (" + e.getMessage()
                    + "): ignored");
        }
        delete(next);
        if (seen == null) {
            return null;
        }
        if (!reconfigEnabled) {
            LOG.log(Level.INFO, "Dynamic reconfig is disabled, we don't store the last seen config.");
            return null;
        }
        if (seen.version() < inForce) {
            // Apache's text (its versions in decimal); it then takes the stale one, which counts for nothing.
            LOG.log(Level.ERROR, "setLastSeenQuorumVerifier called with stale config " + seen.version()
                    + ". Current version: " + inForce);
        }
        lastSeenVersion = seen.version();
        if (seen.version() <= inForce) {
            return null;
        }
        ApacheConfig adopted = seen;
        LOG.log(Level.INFO, () -> "Last seen configuration from " + next + ": version 0x"
                + Long.toHexString(adopted.version()) + ", voters " + adopted.voters() + " (a reconfig proposed and "
                + "not committed when this member stopped; a leadership completes it)");
        return seen;
    }

    /**
     * QuorumPeerConfig.backupOldConfig: an ensemble's zoo.cfg that still holds its member lines is copied to
     * {@code zoo.cfg.bak} at each start with reconfigEnabled, before the first activation rewrites it.
     */
    private void backupStaticConfig() {
        try {
            writeAtomically(Path.of(zooCfg + ".bak"), Files.readString(zooCfg, StandardCharsets.ISO_8859_1),
                    StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "copying " + zooCfg + " to " + zooCfg + ".bak failed", e);
        }
    }

    /**
     * QuorumPeer.setLastSeenQuorumVerifier(qv, true): a reconfig logged (or NEWLEADER's configuration) becomes the
     * last seen configuration and is written to the next file; the same version again changes nothing.
     */
    synchronized void proposed(ApacheConfig config) {
        if (!reconfigEnabled) {
            return;
        }
        if (lastSeenVersion > config.version()) {
            LOG.log(Level.ERROR, "setLastSeenQuorumVerifier called with stale config " + config.version()
                    + ". Current version: " + lastSeenVersion);
        }
        if (lastSeenVersion == config.version()) {
            return;
        }
        lastSeenVersion = config.version();
        try {
            writeAtomically(nextFile(), sortedLines(config.text(), true));
        } catch (IOException e) {
            LOG.log(Level.ERROR, "Error writing next dynamic config file to disk", e);
        }
    }

    /**
     * QuorumPeer.setQuorumVerifier(qv, true), on the commit thread: the dynamic file of the activated configuration
     * and zoo.cfg pointing at it (or Tandem's copy in the data directory), then the next file goes once the
     * configuration activated is the last seen one.
     */
    synchronized void activated(EnsembleConfig config) {
        if (config == null || config.version() <= activeVersion) {
            return; // known already (NEWLEADER's configuration again, or one gossiped before): Apache returns too
        }
        activeVersion = config.version();
        if (zooCfg == null) {
            Reconfig.writeDynamicFileOrWarn(dataDir, config);
        } else {
            try {
                Path dynamic = Path.of(zooCfg + ".dynamic." + Long.toHexString(config.version()));
                writeAtomically(dynamic, sortedLines(config.membersText(), false));
                editStaticConfig(zooCfg, dynamic, clientAddressInLine(config));
            } catch (IOException e) {
                LOG.log(Level.ERROR, "Error writing the dynamic configuration file or zoo.cfg", e);
            }
        }
        if (config.version() > lastSeenVersion) {
            lastSeenVersion = config.version();
        }
        if (config.version() == lastSeenVersion) {
            delete(nextFile());
        }
    }

    /** needEraseClientInfoFromStaticConfig: this member's line in the configuration names its client address. */
    private boolean clientAddressInLine(EnsembleConfig config) {
        String line = config.members().get(myId);
        return line != null && line.contains(";");
    }

    /**
     * QuorumPeerConfig.writeDynamicConfig's body: the configuration's lines as properties, the version line kept only
     * for the next file, each {@code key=value} trimmed, sorted as strings and joined by newlines (none at the end).
     */
    static String sortedLines(String text, boolean keepVersion) throws IOException {
        Properties lines = new Properties();
        lines.load(new StringReader(text));
        List<String> sorted = new ArrayList<>();
        for (Map.Entry<Object, Object> entry : lines.entrySet()) {
            String key = entry.getKey().toString().trim();
            if (!keepVersion && key.startsWith(EnsembleConfig.VERSION_KEY)) {
                continue;
            }
            sorted.add(key + "=" + entry.getValue().toString().trim());
        }
        Collections.sort(sorted);
        return String.join("\n", sorted);
    }

    /**
     * QuorumPeerConfig.editStaticConfig: zoo.cfg's keys in {@link Properties} order (the order Apache writes them,
     * being the same JDK class), without the member lines and the old pointer (and the client port lines when
     * {@code eraseClientPort}), then the pointer to {@code dynamic}'s canonical path.
     */
    static void editStaticConfig(Path zooCfg, Path dynamic, boolean eraseClientPort) throws IOException {
        Properties cfg = new Properties();
        try (InputStream in = Files.newInputStream(zooCfg)) {
            cfg.load(in);
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<Object, Object> entry : cfg.entrySet()) {
            String key = entry.getKey().toString().trim();
            if (key.startsWith("server.") || key.startsWith("group") || key.startsWith("weight")
                    || key.startsWith(DynamicConfigFile.KEY) || key.startsWith("peerType")
                    || eraseClientPort && key.startsWith("clientPort")) {
                continue;
            }
            out.append(key).append('=').append(entry.getValue().toString().trim()).append('\n');
        }
        out.append(DynamicConfigFile.KEY).append('=').append(dynamic.toFile().getCanonicalPath()).append('\n');
        writeAtomically(zooCfg, out.toString());
    }

    /** Apache's AtomicFileWritingIdiom: a temporary file beside the target, forced to disk, renamed over it. */
    static void writeAtomically(Path target, String text) throws IOException {
        writeAtomically(target, text, StandardCharsets.UTF_8);
    }

    private static void writeAtomically(Path target, String text, java.nio.charset.Charset charset)
            throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(temporary, text, charset);
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(Level.WARNING, () -> "deleting " + file + " failed");
        }
    }
}
