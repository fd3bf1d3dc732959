package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheConfig;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ApacheConfigFiles} beside Apache 3.9.5's own QuorumPeerConfig.writeDynamicConfig and editStaticConfig, run
 * in this JVM on a copy of the same zoo.cfg and configurations: the files must come out byte for byte the same, and
 * the next file is written, kept and deleted when Apache's QuorumPeer writes, keeps and deletes it.
 */
class ApacheConfigFilesTest {
    @TempDir
    Path dir;

    private static final String ZOO_CFG = """
            tickTime=2000
            initLimit=10
            syncLimit=5
            clientPort=2181
            clientPortAddress=127.0.0.1
            clientPortListenBacklog=50
            peerType=participant
            reconfigEnabled=true
            4lw.commands.whitelist=*
            server.1=127.0.0.1:2888:3888
            server.2=127.0.0.1:2889:3889
            server.3=127.0.0.1:2890:3890
            """;

    /** Eleven members, so that Apache's string sort puts server.10 before server.2; member 1 names its client port. */
    private static String members(long version) {
        StringBuilder text = new StringBuilder("server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n");
        for (int sid = 2; sid <= 11; sid++) {
            text.append("server.").append(sid).append("=127.0.0.1:").append(2886 + sid).append(':')
                    .append(3886 + sid).append(sid == 11 ? ":observer" : ":participant").append('\n');
        }
        return text.append("version=").append(Long.toHexString(version)).toString();
    }

    /** Apache's QuorumMaj of a configuration text (its toString is what reconfig proposals carry). */
    private static QuorumMaj apache(String text) throws Exception {
        Properties properties = new Properties();
        properties.load(new StringReader(text));
        return new QuorumMaj(properties);
    }

    @Test
    void writesTheDynamicFilesAndRewritesZooCfgAsApacheDoes() throws Exception {
        Path tandem = Files.createDirectories(dir.resolve("tandem"));
        Path theirs = Files.createDirectories(dir.resolve("apache"));
        Path zooCfg = Files.writeString(tandem.resolve("zoo.cfg"), ZOO_CFG);
        Path apacheCfg = Files.writeString(theirs.resolve("zoo.cfg"), ZOO_CFG);
        ApacheConfigFiles files = new ApacheConfigFiles(dir.resolve("data"), zooCfg, 1,
                Map.of("reconfigEnabled", "true"));
        assertNull(files.startUp(0));
        assertEquals(ZOO_CFG, Files.readString(Path.of(zooCfg + ".bak")),
                "backupOldConfig: zoo.cfg with its member lines and reconfigEnabled is kept as zoo.cfg.bak");

        // A reconfig logged: setLastSeenQuorumVerifier(qv, true) writes the next file, version line kept.
        QuorumMaj proposed = apache(members(0x1_0000_0003L));
        files.proposed(ApacheConfig.parse(proposed.toString().getBytes(StandardCharsets.UTF_8)));
        Path next = Path.of(zooCfg + ".dynamic.next");
        QuorumPeerConfig.writeDynamicConfig(apacheCfg + ".dynamic.next", proposed, true);
        assertEquals(Files.readString(Path.of(apacheCfg + ".dynamic.next")), Files.readString(next));
        assertTrue(Files.readString(next).startsWith("server.10=") && Files.readString(next).endsWith(
                "\nserver.9=127.0.0.1:2895:3895:participant\nversion=100000003"), "sorted as strings: "
                + Files.readString(next));

        // An older configuration activated (NEWLEADER's, say) leaves the pending reconfig's next file.
        QuorumMaj older = apache(members(0x1_0000_0000L));
        files.activated(EnsembleConfig.parse(older.toString().getBytes(StandardCharsets.UTF_8)));
        assertTrue(Files.exists(next), "the last seen configuration is still newer");
        Path olderFile = Path.of(zooCfg + ".dynamic.100000000");
        QuorumPeerConfig.writeDynamicConfig(apacheCfg + ".dynamic.100000000", older, false);
        assertEquals(Files.readString(Path.of(apacheCfg + ".dynamic.100000000")), Files.readString(olderFile));
        // Member 1's line in it names its client address: Apache erases clientPort* from zoo.cfg.
        QuorumPeerConfig.editStaticConfig(apacheCfg.toString(), apacheCfg + ".dynamic.100000000", true);
        assertEquals(Files.readString(apacheCfg).replace(theirs.toFile().getCanonicalPath(),
                tandem.toFile().getCanonicalPath()), Files.readString(zooCfg));
        assertFalse(Files.readString(zooCfg).contains("server."), Files.readString(zooCfg));
        assertFalse(Files.readString(zooCfg).contains("clientPort"), Files.readString(zooCfg));

        // The reconfig committed: its dynamic file, zoo.cfg pointing at it, and the next file gone.
        files.activated(EnsembleConfig.parse(proposed.toString().getBytes(StandardCharsets.UTF_8)));
        assertFalse(Files.exists(next), "setQuorumVerifier deletes the next file of the version it activates");
        QuorumPeerConfig.writeDynamicConfig(apacheCfg + ".dynamic.100000003", proposed, false);
        QuorumPeerConfig.editStaticConfig(apacheCfg.toString(), apacheCfg + ".dynamic.100000003", true);
        assertEquals(Files.readString(Path.of(apacheCfg + ".dynamic.100000003")),
                Files.readString(Path.of(zooCfg + ".dynamic.100000003")));
        assertEquals(Files.readString(apacheCfg).replace(theirs.toFile().getCanonicalPath(),
                tandem.toFile().getCanonicalPath()), Files.readString(zooCfg));
        assertTrue(Files.exists(olderFile), "Apache keeps the older dynamic files");

        // The same version again (UPTODATE after it was gossiped) writes nothing.
        Files.delete(Path.of(zooCfg + ".dynamic.100000003"));
        files.activated(EnsembleConfig.parse(proposed.toString().getBytes(StandardCharsets.UTF_8)));
        assertFalse(Files.exists(Path.of(zooCfg + ".dynamic.100000003")));
    }

    @Test
    void readsTheNextFileAtStartUpAsApacheDoesAndDeletesIt() throws Exception {
        Path zooCfg = Files.writeString(dir.resolve("zoo.cfg"), "tickTime=2000\n");
        Path next = Path.of(zooCfg + ".dynamic.next");
        Map<String, String> named = Map.of("reconfigEnabled", "true", DynamicConfigFile.KEY,
                zooCfg + ".dynamic.100000003");
        QuorumPeerConfig.writeDynamicConfig(next.toString(), apache(members(0x1_0000_0005L)), true);
        ApacheConfig seen = new ApacheConfigFiles(dir, zooCfg, 1, named).startUp(0x1_0000_0003L);
        assertEquals(0x1_0000_0005L, seen.version());
        assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), seen.voters());
        assertFalse(Files.exists(next), "deleted by the first setQuorumVerifier");

        // The same version (the reconfig committed since) and a disabled reconfig are no last seen configuration;
        // the file goes all the same.
        QuorumPeerConfig.writeDynamicConfig(next.toString(), apache(members(0x1_0000_0003L)), true);
        assertNull(new ApacheConfigFiles(dir, zooCfg, 1, named).startUp(0x1_0000_0003L));
        assertFalse(Files.exists(next));
        QuorumPeerConfig.writeDynamicConfig(next.toString(), apache(members(0x1_0000_0005L)), true);
        assertNull(new ApacheConfigFiles(dir, zooCfg, 1, Map.of(DynamicConfigFile.KEY, zooCfg + ".dynamic.1"))
                .startUp(0x1_0000_0003L));
        assertFalse(Files.exists(next));
        // Without a dynamicConfigFile QuorumPeerConfig.parse does not read it.
        QuorumPeerConfig.writeDynamicConfig(next.toString(), apache(members(0x1_0000_0005L)), true);
        assertNull(new ApacheConfigFiles(dir, zooCfg, 1, Map.of("reconfigEnabled", "true")).startUp(0));
        assertFalse(Files.exists(next));
    }

    @Test
    void writesNothingWithoutReconfigEnabled() throws Exception {
        Path zooCfg = Files.writeString(dir.resolve("zoo.cfg"), ZOO_CFG.replace("reconfigEnabled=true\n", ""));
        ApacheConfigFiles files = new ApacheConfigFiles(dir, zooCfg, 1, Map.of());
        assertNull(files.startUp(0));
        files.proposed(ApacheConfig.parse(members(0x1_0000_0003L).getBytes(StandardCharsets.UTF_8)));
        assertFalse(Files.exists(Path.of(zooCfg + ".dynamic.next")));
        assertFalse(Files.exists(Path.of(zooCfg + ".bak")));
    }
}
