package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** server.N lines: observers are non-voting members (and need a quorum of voters), a member's client address must agree. */
class EnsembleConfigTest {
    @TempDir
    Path dir;

    private TandemConfig member(int myId) {
        return TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", Integer.toString(myId)).set("tickTime", "200");
    }

    @Test
    void shouldReadObserverLinesAsNonVotingMembers() {
        QuorumTransport.Peer peer = QuorumTransport.Peer.parse(4, "zk4:2888:3888:observer;2181");
        assertEquals(new QuorumTransport.Peer(4, "zk4", 2888, 3888, true), peer);
        assertTrue(QuorumTransport.Peer.parse(4, "zk4:2888:3888:OBSERVER").observer());
        assertTrue(!QuorumTransport.Peer.parse(2, "zk2:2888:3888").observer());
    }

    @Test
    void shouldRefuseObserversWithoutAQuorumOfVotersInApachesWords() throws IOException {
        TandemConfig noVoters = member(1).set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ":observer")
                .set("server.2", "127.0.0.1:" + freePort() + ":" + freePort() + ":observer");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tandem.start(noVoters).close());
        assertTrue(e.getMessage().contains("Observers w/o participants is an invalid configuration"), e.getMessage());
        TandemConfig oneVoter = member(1).set("server.1", "127.0.0.1:" + freePort() + ":" + freePort())
                .set("server.2", "127.0.0.1:" + freePort() + ":" + freePort() + ":observer");
        e = assertThrows(IllegalArgumentException.class, () -> Tandem.start(oneVoter).close());
        assertTrue(e.getMessage().contains("Observers w/o quorum is an invalid configuration"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("zookeeper").resolve("zab")), "no member was started");
    }

    @Test
    void shouldReadParticipantLinesAndRefuseUnknownRoles() {
        QuorumTransport.Peer peer = QuorumTransport.Peer.parse(2, "zk2:2888:3888:participant;2181");
        assertEquals(new QuorumTransport.Peer(2, "zk2", 2888, 3888), peer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuorumTransport.Peer.parse(2, "zk2:2888:3888:witness"));
        assertTrue(e.getMessage().contains("Unrecognised peertype: witness"), e.getMessage());
    }

    @Test
    void shouldServeClientsWhereTheMembersOwnLineSaysWhenClientPortAgrees() throws Exception {
        int clientPort = freePort();
        TandemConfig config = member(1).set("clientPort", Integer.toString(clientPort))
                .set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ";127.0.0.1:" + clientPort);
        try (Tandem tandem = Tandem.start(config); Socket client = new Socket("127.0.0.1", clientPort)) {
            assertEquals(clientPort, tandem.zookeeperPort());
            assertTrue(client.isConnected());
        }
    }

    @Test
    void shouldRefuseAClientAddressInTheMembersOwnLineThatClientPortContradicts() throws IOException {
        int clientPort = freePort();
        TandemConfig config = member(1).set("clientPort", Integer.toString(clientPort))
                .set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ";" + (clientPort + 1));
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains("'server.1'") && e.getMessage().contains("client address for this server"
                + " (id = 1) in static config file is /127.0.0.1:" + clientPort + " is different from client address"
                + " found in dynamic file: /0.0.0.0:" + (clientPort + 1)), e.getMessage());
    }

    @Test
    void shouldServeWhereTheLineSaysWhenClientPortAddressIsTheWildcardAndThePortAgrees() throws Exception {
        // Curator's TestingCluster writes exactly this: clientPort=P and server.N=127.0.0.1:q:e;127.0.0.1:P.
        int clientPort = freePort();
        TandemConfig config = TandemConfig.defaults().dataDir(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", "1").set("tickTime", "200").set("clientPort", Integer.toString(clientPort))
                .set("admin.enableServer", "false")
                .set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ";127.0.0.1:" + clientPort);
        try (Tandem tandem = Tandem.start(config); Socket client = new Socket("127.0.0.1", clientPort)) {
            assertEquals(clientPort, tandem.zookeeperPort());
            assertTrue(client.isConnected());
            assertEquals("127.0.0.1:" + clientPort, tandem.zookeeperConnect());
        }
    }

    @Test
    void shouldTakeTheClientPortFromTheLineWhenClientPortIsNotSet() throws Exception {
        int clientPort = freePort();
        TandemConfig config = TandemConfig.defaults().dataDir(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", "1").set("tickTime", "200").set("admin.enableServer", "false")
                .set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ";127.0.0.1:" + clientPort);
        try (Tandem tandem = Tandem.start(config); Socket client = new Socket("127.0.0.1", clientPort)) {
            assertEquals(clientPort, tandem.zookeeperPort());
        }
    }

    @Test
    void shouldRefuseASpecificClientPortAddressThatTheLinesWildcardContradicts() throws IOException {
        // Apache: clientPortAddress 127.0.0.1:P is not the line's 0.0.0.0:P.
        int clientPort = freePort();
        TandemConfig config = member(1).set("clientPort", Integer.toString(clientPort))
                .set("server.1", "127.0.0.1:" + freePort() + ":" + freePort() + ";" + clientPort);
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains("in static config file is /127.0.0.1:" + clientPort
                + " is different from client address found in dynamic file: /0.0.0.0:" + clientPort), e.getMessage());
    }

    private static int freePort() throws IOException {
        return TestPorts.freePort();
    }
}
