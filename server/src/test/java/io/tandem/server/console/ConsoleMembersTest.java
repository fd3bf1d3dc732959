package io.tandem.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.TandemConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which ZooKeeper members the overview asks {@code srvr}: from server.N lines, else the connect string. */
class ConsoleMembersTest {
    private static List<String> members(TandemConfig config, String connect) {
        return ConsoleServer.members(config, connect).stream()
                .map(a -> a.getHostString() + ":" + a.getPort()).toList();
    }

    @Test
    void shouldAskEachServerLinesClientAddressOrItsHostWithThisNodesClientPort() {
        TandemConfig config = TandemConfig.forTests(Path.of("unused")).zookeeperPort(2181)
                .set("server.1", "10.0.0.1:2888:3888;10.0.1.1:2191")
                .set("server.2", "10.0.0.2:2888:3888;0.0.0.0:2192")
                .set("server.3", "10.0.0.3:2888:3888:observer");
        assertEquals(List.of("10.0.1.1:2191", "10.0.0.2:2192", "10.0.0.3:2181"),
                members(config, "127.0.0.1:2181"));
    }

    @Test
    void shouldAskTheConnectStringsHostsWithoutServerLines() {
        TandemConfig config = TandemConfig.forTests(Path.of("unused"));
        assertEquals(List.of("127.0.0.1:2181", "zk2:2182"), members(config, "127.0.0.1:2181,zk2:2182/chroot"));
        InetSocketAddress ipv6 = ConsoleServer.members(config, "[::1]:2181").get(0);
        assertEquals("::1", ipv6.getHostString());
    }
}
