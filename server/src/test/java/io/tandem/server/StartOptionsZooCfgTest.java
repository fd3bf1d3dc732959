package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: which of several {@code --config} files is Apache's zoo.cfg, the one an Apache-mode reconfig rewrites
 * (QuorumPeer.setQuorumVerifier's editStaticConfig edits the one config path QuorumPeerMain was given): the file that
 * names the ensemble; two that both do are refused where a reconfig would rewrite one.
 */
class StartOptionsZooCfgTest {
    @TempDir
    Path temp;

    private TandemConfig configOf(String... args) throws Exception {
        String[] all = new String[args.length + 1];
        all[0] = "start";
        System.arraycopy(args, 0, all, 1, args.length);
        return StartCommandLine.parse(all).toConfig();
    }

    @Test
    void shouldNameTheFileWithTheMemberLinesAsZooCfgAmongSeveral() throws Exception {
        Path kafka = Files.writeString(temp.resolve("server.properties"), "broker.id=1\nnum.partitions=3\n");
        Path zoo = Files.writeString(temp.resolve("zoo.cfg"),
                "tickTime=500\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nreconfigEnabled=true\n");
        assertEquals(zoo, configOf("--config", kafka.toString(), "--config", zoo.toString(),
                "--set", "tandem.quorumProtocol=apache").configFile());
        Path dynamic = Files.writeString(temp.resolve("zoo2.cfg"), "tickTime=500\ndynamicConfigFile=zoo2.dyn\n");
        assertEquals(dynamic, configOf("--config", dynamic.toString(), "--config", kafka.toString()).configFile());
        assertEquals(kafka, configOf("--config", kafka.toString()).configFile(), "a single file is zoo.cfg as ever");
        assertNull(configOf("--config", kafka.toString(), "--config",
                Files.writeString(temp.resolve("more.properties"), "log.retention.hours=1\n").toString())
                .configFile(), "no file names the ensemble: none is rewritten");
    }

    @Test
    void shouldRefuseTwoFilesNamingMembersWhenAnApacheReconfigWouldRewriteOne() throws Exception {
        Path first = Files.writeString(temp.resolve("a.cfg"), "server.1=127.0.0.1:2888:3888\n");
        Path second = Files.writeString(temp.resolve("b.cfg"), "server.2=127.0.0.1:2889:3889\n");
        ConfigException refused = assertThrows(ConfigException.class, () -> configOf("--config", first.toString(),
                "--config", second.toString(), "--set", "tandem.quorumProtocol=apache", "--set",
                "reconfigEnabled=true"));
        assertTrue(refused.getMessage().contains(first.toString()) && refused.getMessage().contains(second.toString()),
                refused.getMessage());
        // Without a reconfig to rewrite anything (or in Tandem's protocol) the files merge as before.
        assertNull(configOf("--config", first.toString(), "--config", second.toString(), "--set",
                "tandem.quorumProtocol=apache").configFile());
        assertNull(configOf("--config", first.toString(), "--config", second.toString(), "--set",
                "reconfigEnabled=true").configFile());
    }
}
