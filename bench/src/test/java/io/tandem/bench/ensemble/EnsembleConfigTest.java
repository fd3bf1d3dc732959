package io.tandem.bench.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ensemble's files and the srvr parsing; the benchmark itself is never run or asserted by tests. */
class EnsembleConfigTest {
    @TempDir
    Path work;

    @Test
    void everyNodeGetsItsOwnMyidAndAZooCfgNamingAllThreeServers() throws Exception {
        Ensemble ensemble = Ensemble.prepare("probe", work, node -> List.of("true"));
        List<Ensemble.Node> nodes = ensemble.nodes();
        assertEquals(3, nodes.size());
        for (Ensemble.Node node : nodes) {
            assertEquals(Integer.toString(node.id()), Files.readString(node.dataDir().resolve("myid")).trim());
            List<String> lines = Files.readAllLines(node.config());
            assertTrue(lines.contains("clientPort=" + node.clientPort()), lines::toString);
            assertTrue(lines.contains("dataDir=" + node.dataDir().toAbsolutePath()), lines::toString);
            assertTrue(lines.containsAll(List.of("tickTime=2000", "initLimit=10", "syncLimit=5", "forceSync=yes",
                    "admin.enableServer=false", "4lw.commands.whitelist=*")), lines::toString);
            for (Ensemble.Node member : nodes) {
                assertTrue(lines.contains("server." + member.id() + "=127.0.0.1:" + member.quorumPort() + ":"
                        + member.electionPort()), lines::toString);
            }
        }
        assertEquals(9, nodes.stream().flatMap(n -> Stream.of(n.clientPort(), n.quorumPort(),
                n.electionPort())).distinct().count(), "each node needs three ports of its own");
        assertEquals(nodes.get(0).clientAddress() + "," + nodes.get(1).clientAddress() + "," + nodes.get(2).clientAddress(),
                ensemble.connectString());
    }

    @Test
    void observersSayPeerTypeAndEveryServerLineMarksThem() throws Exception {
        Ensemble ensemble = Ensemble.prepare("observed", work, 5, 2, node -> List.of("true"));
        List<Ensemble.Node> nodes = ensemble.nodes();
        assertEquals(7, nodes.size());
        assertEquals(5, ensemble.voters());
        for (Ensemble.Node node : nodes) {
            List<String> lines = Files.readAllLines(node.config());
            assertEquals(node.id() > 5, lines.contains("peerType=observer"), lines::toString);
            for (Ensemble.Node member : nodes) {
                assertTrue(lines.contains("server." + member.id() + "=127.0.0.1:" + member.quorumPort() + ":"
                        + member.electionPort() + (member.id() > 5 ? ":observer" : "")), lines::toString);
            }
        }
    }

    @Test
    void modeIsReadFromTheSrvrAnswer() {
        String leaderAnswer = "Zookeeper version: 3.9.5-abc, built on 2025-01-01 00:00 UTC\nLatency min/avg/max: 0/0.0/0\n"
                + "Received: 3\nSent: 2\nConnections: 1\nOutstanding: 0\nZxid: 0x100000002\nMode: leader\nNode count: 5\n"
                + "Proposal sizes last/min/max: -1/-1/-1\n";
        assertEquals(Optional.of("leader"), Ensemble.modeOf(leaderAnswer));
        assertEquals(Optional.of("follower"), Ensemble.modeOf("Zxid: 0x0\nMode: follower\nNode count: 5\n"));
        assertEquals(Optional.empty(), Ensemble.modeOf("This ZooKeeper instance is not currently serving requests\n"));
    }
}
