package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.http.AdminHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZooKeeper's {@code initial_configuration} admin command on a standalone server: Apache's ZooKeeperServerMain answers
 * the text of the zoo.cfg it read (its ServerConfig keeps QuorumPeerConfig's file text), an embedded server "". Tandem
 * started from a configuration file answers the file's text, followed by each {@code --set} line; built through the
 * embedding API, "". (Ensemble members answer null, as Apache's quorum servers: AdminEnsembleDifferentialTest.)
 */
class InitialConfigurationTest {
    @TempDir
    Path dir;

    /** Apache's ServerConfig keeps the text in a protected field, which ZooKeeperServerMain hands to its server. */
    private static final class ApacheServerConfig extends ServerConfig {
        String initialConfig() {
            return initialConfig;
        }
    }

    @Test
    void shouldAnswerTheConfigurationFileAsApachesZooKeeperServerMainDoes() throws Exception {
        Path zooCfg = dir.resolve("zoo.cfg");
        String text = "# a standalone server\ntickTime=500\nclientPort=0\nclientPortAddress=127.0.0.1\n"
                + "dataDir=" + dir.resolve("data") + "\nadmin.serverPort=0\n";
        Files.writeString(zooCfg, text);
        ApacheServerConfig apache = new ApacheServerConfig();
        apache.parse(zooCfg.toString());
        assertEquals(text, apache.initialConfig(), "what ZooKeeperServerMain hands its ZooKeeperServer");

        StartOptions options = StartCommandLine.parse(new String[] {"start", "--config", zooCfg.toString(),
            "--roles", "zookeeper", "--set", "maxSessionTimeout=30000"});
        TandemConfig config = options.toConfig().dataDir(dir.resolve("tandem"));
        try (Tandem tandem = Tandem.start(config)) {
            assertEquals(text + "maxSessionTimeout=30000\n", AdminHttp.command(tandem.adminPort(),
                    "initial_configuration").get("initial_configuration").asText());
        }
        try (Tandem embedded = Tandem.start(TandemConfig.forTests(dir.resolve("embedded"))
                .roles(java.util.EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("admin.serverPort", "0"))) {
            assertEquals("", AdminHttp.command(embedded.adminPort(), "icfg").get("initial_configuration").asText());
        }
    }
}
