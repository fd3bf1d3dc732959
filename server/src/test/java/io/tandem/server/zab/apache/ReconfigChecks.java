package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/** What the mixed-ensemble reconfig tests check on every member: one configuration, and writes seen everywhere. */
final class ReconfigChecks {
    private ReconfigChecks() {
    }

    /**
     * Every client's getConfig, after a sync, answers the same data and Stat (but mtime: each member's activation
     * writes the znode at its own wall-clock time, Apache's initConfigInZKDatabase, so two Apache members differ in
     * it too), and getData of /zookeeper/config the same bytes; returns that data.
     */
    static String assertSameConfig(ZooKeeper first, ZooKeeper... others) throws Exception {
        sync(first, "/zookeeper/config");
        Stat expectedStat = new Stat();
        String expected = text(first.getConfig(false, expectedStat));
        for (ZooKeeper other : others) {
            sync(other, "/zookeeper/config");
            Stat stat = new Stat();
            assertEquals(expected, text(other.getConfig(false, stat)), "getConfig's data");
            stat.setMtime(expectedStat.getMtime());
            assertEquals(expectedStat, stat, "getConfig's Stat");
            assertArrayEquals(bytes(expected), other.getData("/zookeeper/config", false, null),
                    "/zookeeper/config");
        }
        return expected;
    }

    /** Writes through {@code writer} and reads the write back through every client after a sync. */
    static void writeAndSeeEverywhere(String path, ZooKeeper writer, ZooKeeper... readers) throws Exception {
        writer.create(path, bytes(path), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (ZooKeeper reader : readers) {
            sync(reader, path);
            assertArrayEquals(bytes(path), reader.getData(path, false, null), path);
        }
    }

    /** A member's line as a reconfig adds it: {@code server.N=host:quorum:election:participant;host:client}. */
    static String serverLine(Ports member) {
        return "server." + member.sid() + "=127.0.0.1:" + member.quorumPort() + ":" + member.electionPort()
                + ":participant;127.0.0.1:" + member.clientPort();
    }

    static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }
}
