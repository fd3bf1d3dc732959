package io.tandem.server.zookeeper;

import io.tandem.server.ConfigException;
import io.tandem.server.TandemConfig;
import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * zoo.cfg's {@code dynamicConfigFile}, read as Apache ZooKeeper 3.9's QuorumPeerConfig.parse reads it: the file holds
 * the ensemble's {@code server.N} lines (Apache writes it as {@code zoo.cfg.dynamic.<version>} once reconfig is
 * enabled or a reconfig ran), its version is the hex suffix of its name (none: 0), and the same checks refuse it: a
 * member line left in zoo.cfg, a {@code version} line or any other key inside the file, a voter without an election
 * port, observers without a quorum. A relative path is opened as Apache opens it: from the working directory.
 *
 * <p>The lines are merged into the settings before they are checked, so everything after (the key checks, the
 * client address a member's own line names, the ensemble) sees the members as if zoo.cfg had named them; the setting
 * stays, naming the file the members came from and so their version ({@link #version}).
 */
public final class DynamicConfigFile {
    public static final String KEY = "dynamicConfigFile";
    /** Apache's QuorumPeerConfig.nextDynamicConfigFileSuffix, after zoo.cfg's path. */
    static final String NEXT_SUFFIX = ".dynamic.next";
    private static final Logger LOG = System.getLogger(DynamicConfigFile.class.getName());

    private DynamicConfigFile() {
    }

    /** {@code config} itself when it names no dynamic file, else a copy with the file's member lines set. */
    public static TandemConfig expand(TandemConfig config) {
        Map<String, String> settings = config.settings();
        String file = settings.get(KEY);
        if (file == null) {
            return config;
        }
        Map<String, String> members = read(settings, file.trim());
        TandemConfig expanded = TandemConfig.defaults().dataDir(config.dataDir()).roles(config.roles());
        settings.forEach(expanded::set);
        members.forEach(expanded::set);
        expanded.zookeeperPort(config.zookeeperPort()).kafkaPort(config.kafkaPort());
        if (config.initialText() != null) expanded.initialText(config.initialText());
        expanded.configFile(config.configFile());
        return expanded;
    }

    /** The member lines of {@code file}, checked as Apache checks them against the static settings. */
    static Map<String, String> read(Map<String, String> settings, String file) {
        for (String key : settings.keySet()) {
            String k = key.trim();
            if (k.startsWith("server.") || k.startsWith("group") || k.startsWith("weight")) {
                throw refused(file, "parameter: " + k + " must be in a separate dynamic config file");
            }
        }
        Properties dynamic = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            dynamic.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw refused(file, "Error processing " + file + " (" + e + ")");
        }
        if (dynamic.getProperty(EnsembleConfig.VERSION_KEY) != null) {
            throw refused(file, "dynamic file shouldn't have version inside");
        }
        Map<String, String> members = new LinkedHashMap<>();
        int voters = 0;
        int observers = 0;
        for (String name : dynamic.stringPropertyNames()) {
            String key = name.trim();
            String value = dynamic.getProperty(name).trim();
            if (key.startsWith("group") || key.startsWith("weight")) {
                throw refused(file, "Error processing " + file + " (" + key + ": hierarchical quorums are not"
                        + " implemented)");
            }
            if (!key.startsWith("server.")) {
                throw refused(file, "Unrecognised parameter: " + key);
            }
            QuorumTransport.Peer peer;
            try {
                int id = Integer.parseInt(key.substring("server.".length()));
                peer = QuorumTransport.Peer.parse(id, value);
            } catch (IllegalArgumentException e) {
                throw refused(file, "Error processing " + file + " (" + key + "=" + value + ": " + e.getMessage()
                        + ")");
            }
            if (peer.observer()) observers++;
            else voters++;
            members.put(key, value);
        }
        // QuorumPeerConfig.parseDynamicConfig's checks, with its texts.
        if (voters == 0 && observers > 0) {
            throw refused(file, "Error processing " + file
                    + " (Observers w/o participants is an invalid configuration)");
        }
        if (voters == 1) {
            // Apache's text: with standaloneEnabled (the only mode Tandem runs) the lone participant is ignored as
            // an ensemble and QuorumPeerMain starts a standalone server instead (lone, ZooKeeperRole).
            LOG.log(Level.ERROR, "Invalid configuration, only one server specified (ignoring)");
        }
        if (voters == 1 && observers > 0) {
            throw refused(file, "Error processing " + file + " (Observers w/o quorum is an invalid configuration)");
        }
        if (voters > 1) {
            for (Map.Entry<String, String> member : members.entrySet()) {
                int id = Integer.parseInt(member.getKey().substring("server.".length()));
                QuorumTransport.Peer peer = QuorumTransport.Peer.parse(id, member.getValue());
                if (!peer.observer() && peer.electionPort() == -1) {
                    throw refused(file, "Error processing " + file + " (Missing election port for server: " + id + ")");
                }
            }
        }
        return members;
    }

    /**
     * Whether the settings' members came from a dynamic file naming one participant (and so no observer, which
     * {@link #read} refuses): Apache's QuorumPeerConfig.isDistributed is false for it, and QuorumPeerMain runs
     * ZooKeeperServerMain, a standalone server on the client address that participant's line names. zoo.cfg's own
     * single {@code server.N} line is not this case: Tandem runs that as an ensemble of one (its data under zab/).
     */
    static boolean lone(Map<String, String> settings) {
        return settings.get(KEY) != null
                && settings.keySet().stream().filter(key -> key.trim().matches("server\\.\\d+")).count() == 1;
    }

    /**
     * Apache's {@code <zoo.cfg>.dynamic.next} (QuorumPeer.getNextDynamicConfigFilename): the configuration of a
     * reconfig proposed and not yet committed when an Apache member stopped, which QuorumPeerConfig.parse reads as
     * the last seen configuration. Tandem does not know zoo.cfg's own path (its settings are merged from files and
     * flags), so the file is looked for where Apache puts it beside the dynamic file it writes,
     * {@code <zoo.cfg>.dynamic.<hex>}: the named file's name up to {@code .dynamic}. Null when zoo.cfg names no
     * dynamic file or the name is not Apache's.
     */
    static Path nextFile(Map<String, String> settings) {
        String file = settings.get(KEY);
        if (file == null) {
            return null;
        }
        String name = file.trim();
        int dynamic = name.lastIndexOf(".dynamic");
        if (dynamic < 0 || !name.substring(dynamic + ".dynamic".length()).matches("(\\.[0-9a-fA-F]+)?")) {
            return null;
        }
        return Path.of(name.substring(0, dynamic) + NEXT_SUFFIX);
    }

    /**
     * Apache's start-up with a {@code .dynamic.next} ({@link #nextFile}): with reconfigEnabled, one of a higher version
     * than the configuration in force ({@code inForce}, after {@link Reconfig#withDynamicFile}) is a reconfig this
     * member saw proposed and not committed, which Apache's QuorumPeer takes as its last seen configuration (a leader
     * it becomes completes the reconfig with a quorum of both). A Tandem-protocol member cannot take a last seen
     * configuration from a file (its own members recover one from their log), so that is refused, naming the file;
     * an older or equal one is left as Apache leaves it (a stale one with Apache's error), and so is any without
     * reconfigEnabled. An Apache-mode member adopts it as Apache does ({@link ApacheConfigFiles#startUp}).
     *
     * @param named the settings with zoo.cfg's dynamicConfigFile, before a newer file in the data directory replaced it
     */
    static void checkNext(Map<String, String> named, long inForce) {
        Path next = nextFile(named);
        if (next == null || !Files.exists(next)) {
            return;
        }
        if (!Boolean.parseBoolean(String.valueOf(named.get("reconfigEnabled")).trim())) {
            LOG.log(Level.INFO, "Dynamic reconfig is disabled, we don't store the last seen config.");
            return;
        }
        EnsembleConfig proposed;
        try {
            Properties lines = new Properties();
            try (InputStream in = Files.newInputStream(next)) {
                lines.load(in);
            }
            StringBuilder text = new StringBuilder();
            lines.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
            proposed = EnsembleConfig.parse(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "NextQuorumVerifier is initiated to null");
            return;
        } catch (IllegalArgumentException e) {
            throw refused(named.get(KEY).trim(), "Error processing " + next + " (" + e.getMessage() + ")");
        }
        long version = proposed == null ? 0 : proposed.version();
        if (version < inForce) {
            LOG.log(Level.ERROR, "setLastSeenQuorumVerifier called with stale config " + version
                    + ". Current version: " + inForce);
        } else if (version > inForce) {
            throw refused(named.get(KEY).trim(), next + " holds configuration version " + Long.toHexString(version)
                    + ", proposed by a reconfig and not committed when Apache stopped (its last seen configuration,"
                    + " newer than version " + Long.toHexString(inForce) + " in force); Tandem does not take a pending"
                    + " reconfig from this file: let the ensemble commit or drop it and remove the file");
        }
    }

    /**
     * The version of the configuration the settings' dynamic file holds: its name's last dot-separated part read as
     * hex (Apache's getVersionFromFilename), 0 when that is not hex or no file is named.
     */
    static long version(Map<String, String> settings) {
        String file = settings.get(KEY);
        if (file == null) {
            return 0;
        }
        String name = file.trim();
        int dot = name.lastIndexOf('.');
        try {
            return dot < 0 ? 0 : Long.parseLong(name.substring(dot + 1), 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static ConfigException refused(String file, String reason) {
        return new ConfigException(List.of("Configuration key '" + KEY + "' (value '" + file + "') cannot be used: "
                + reason));
    }
}
