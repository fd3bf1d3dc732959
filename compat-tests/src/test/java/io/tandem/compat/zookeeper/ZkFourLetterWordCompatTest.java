package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Four-letter words on the client port (whitelist "*" on both targets). */
@ExtendWith(ZkTargetExtension.class)
class ZkFourLetterWordCompatTest {
    /** The mntr keys monitoring tools (e.g. the Prometheus exporters and zkTop) read from a standalone server. */
    private static final List<String> MNTR_KEYS = List.of(
            "zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency", "zk_min_latency",
            "zk_packets_received", "zk_packets_sent", "zk_num_alive_connections", "zk_outstanding_requests",
            "zk_znode_count", "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
            "zk_open_file_descriptor_count", "zk_max_file_descriptor_count");

    /** The mntr keys Apache's leader registers (LeaderZooKeeperServer.registerMetrics) that are about proposals. */
    private static final List<String> LEADER_ONLY_MNTR_KEYS = List.of("zk_pending_syncs", "zk_last_proposal_size",
            "zk_max_proposal_size", "zk_min_proposal_size");

    @Test
    void ruokShouldAnswerImok(ZkTarget target) throws Exception {
        assertEquals("imok", Zk.fourLetterWord(target, "ruok"));
    }

    @Test
    void srvrShouldDescribeAStandaloneServer(ZkTarget target) throws Exception {
        String answer = Zk.fourLetterWord(target, "srvr");
        assertTrue(answer.startsWith("Zookeeper version: "), answer);
        for (String line : List.of("Latency min/avg/max: ", "Received: ", "Sent: ", "Connections: ", "Outstanding: ",
                "Zxid: 0x", "Mode: standalone", "Node count: ")) {
            assertTrue(answer.contains("\n" + line), () -> "missing \"" + line + "\" in:\n" + answer);
        }
        // Apache's StatCommand prints its Leader's proposal sizes on a leader only.
        assertFalse(answer.contains("Proposal sizes"), answer);
    }

    @Test
    void mntrShouldListTheStandardKeysAsTabSeparatedLines(ZkTarget target) throws Exception {
        try (ZooKeeper zk = Zk.connect(target.connectString())) {
            zk.create("/mntr-eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            Map<String, String> values = new LinkedHashMap<>();
            for (String line : Zk.fourLetterWord(target, "mntr").split("\n")) {
                String[] keyAndValue = line.split("\t", 2);
                assertEquals(2, keyAndValue.length, () -> "not key<TAB>value: " + line);
                values.put(keyAndValue[0], keyAndValue[1]);
            }
            for (String key : MNTR_KEYS) {
                assertTrue(values.containsKey(key), () -> "mntr lacks " + key + ": " + values.keySet());
            }
            assertEquals("standalone", values.get("zk_server_state"));
            // Apache's leader gauges (LeaderZooKeeperServer): a standalone server proposes nothing and has none.
            for (String key : LEADER_ONLY_MNTR_KEYS) {
                assertFalse(values.containsKey(key), () -> "a standalone mntr has " + key + ": " + values.keySet());
            }
            assertTrue(Integer.parseInt(values.get("zk_ephemerals_count")) >= 1);
            assertTrue(Integer.parseInt(values.get("zk_num_alive_connections")) >= 1);
            // The root, /zookeeper, /zookeeper/quota, /zookeeper/config and our node at least.
            assertTrue(Integer.parseInt(values.get("zk_znode_count")) >= 5, values.get("zk_znode_count"));
        }
    }

    @Test
    void theOtherWordsShouldAnswerInApachesFormat(ZkTarget target) throws Exception {
        assertEquals("rw", Zk.fourLetterWord(target, "isro"));
        String stat = Zk.fourLetterWord(target, "stat");
        assertTrue(stat.startsWith("Zookeeper version: ") && stat.contains("\nClients:\n") && stat.contains("\nMode: standalone\n"), stat);
        String conf = Zk.fourLetterWord(target, "conf");
        assertTrue(conf.contains("clientPort=" + target.port() + "\n") && conf.contains("tickTime=" + ZkTarget.TICK_TIME_MS + "\n"), conf);
        assertTrue(Zk.fourLetterWord(target, "envi").startsWith("Environment:\n"));
        assertTrue(Zk.fourLetterWord(target, "wchs").contains(" connections watching "));
        assertTrue(Zk.fourLetterWord(target, "cons").contains("/127.0.0.1:"));
    }

    @Test
    void gtmkShouldAnswerTheTraceMaskWithoutANewline(ZkTarget target) throws Exception {
        String mask = Zk.fourLetterWord(target, "gtmk");
        assertTrue(mask.matches("[0-9]+"), () -> "not a bare number: \"" + mask + "\"");
    }

    @Test
    void anUnknownWordShouldNotBeAnsweredAsACommand(ZkTarget target) throws Exception {
        // Apache treats unknown 4-byte input as the start of a session request and closes the connection.
        assertEquals("", Zk.fourLetterWord(target, "zzzz"));
    }
}
