package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.zab.QuorumTransport;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** server.N lines: observers are refused (never silently made voters), a member's client address must agree. */
class EnsembleConfigTest {
    @TempDir
    Path dir;

    private TandemConfig member(int myId) {
        return TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", Integer.toString(myId)).set("tickTime", "200");
    }

    @Test
    void shouldRefuseAnObserverLineInsteadOfMakingItAVoter() throws IOException {
        TandemConfig config = member(1).set("server.1", "127.0.0.1:" + freePort() + ":" + freePort())
                .set("server.2", "127.0.0.1:" + freePort() + ":" + freePort())
                .set("server.3", "127.0.0.1:" + freePort() + ":" + freePort() + ":observer");
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertEquals(1, e.refusals().size(), e.getMessage());
        assertTrue(e.refusals().get(0).startsWith("Configuration key 'server.3'"), e.getMessage());
        assertTrue(e.refusals().get(0).contains("observers are not implemented"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("zookeeper").resolve("zab")), "no member was started");
    }

    @Test
    void shouldRefuseAnObserverPeerType() {
        TandemConfig config = member(1).set("server.1", "127.0.0.1:2888:3888").set("peerType", "observer");
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains("'peerType'") && e.getMessage().contains("observers are not implemented"),
                e.getMessage());
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
        assertTrue(e.getMessage().contains("'server.1'") && e.getMessage().contains("make them agree"), e.getMessage());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
