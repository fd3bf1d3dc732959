package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code znode.container.maxPerMinute}: a sweep that finds many empty containers deletes them one every
 * 60000 / maxPerMinute ms, as Apache's ContainerManager (its getMinIntervalMs), not all at once. Measured by counting
 * the containers left over time; the bounds are generous (a loaded machine may only slow the pace, never speed it).
 */
class ContainerPacingTest {
    private static final int CONTAINERS = 30;
    /** 600 a minute: one deletion every 100 ms, so 30 take about 2.9 s. */
    private static final int MAX_PER_MINUTE = 600;

    @TempDir
    Path dir;

    @Test
    void shouldDeleteTheContainersOfOneSweepAtTheConfiguredPace() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("znode.container.checkIntervalMs", "200")
                .set("znode.container.maxPerMinute", Integer.toString(MAX_PER_MINUTE)))) {
            ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect());
            try {
                zk.create("/pace", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                // Each container gets a child and loses it in one multi, so the sweep finds them all empty together.
                List<org.apache.zookeeper.Op> ops = new ArrayList<>();
                for (int i = 0; i < CONTAINERS; i++) {
                    String container = String.format("/pace/c%02d", i);
                    ops.add(org.apache.zookeeper.Op.create(container, null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.CONTAINER));
                    ops.add(org.apache.zookeeper.Op.create(container + "/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT));
                    ops.add(org.apache.zookeeper.Op.delete(container + "/child", -1));
                }
                zk.multi(ops);

                // Samples of (time, containers left) every 20 ms until all are gone.
                List<long[]> samples = new ArrayList<>();
                long start = System.nanoTime();
                long deadline = start + 60_000_000_000L;
                int left;
                do {
                    left = zk.getChildren("/pace", false).size();
                    samples.add(new long[] {(System.nanoTime() - start) / 1_000_000, left});
                    Thread.sleep(20);
                } while (left > 0 && System.nanoTime() < deadline);
                assertEquals(0, left, "every empty container is deleted within a minute");

                long firstDeletionMs = samples.stream().filter(s -> s[1] < CONTAINERS).findFirst().orElseThrow()[0];
                long lastDeletionMs = samples.get(samples.size() - 1)[0];
                // 29 intervals of 100 ms between the first deletion and the last: at least 2.9 s, at most what a
                // loaded machine adds. Without pacing the whole sweep goes out in one turn (a few ms).
                assertTrue(lastDeletionMs - firstDeletionMs >= 2_000, "the sweep's deletions were spread over "
                        + (lastDeletionMs - firstDeletionMs) + " ms, expected about 2900; samples " + describe(samples));
                // No half second sees more than a few beyond the 5 the pace allows (a late turn sends at most two).
                for (long[] from : samples) {
                    long[] to = samples.stream().filter(s -> s[0] <= from[0] + 500).reduce((a, b) -> b).orElseThrow();
                    assertTrue(from[1] - to[1] <= 10, "deleted " + (from[1] - to[1]) + " within 500 ms from "
                            + from[0] + " ms, expected about 5; samples " + describe(samples));
                }
            } finally {
                zk.close();
            }
        }
    }

    @Test
    void shouldRefuseAMaxPerMinuteThatIsNotPositive() {
        Map<String, String> settings = Map.of("znode.container.maxPerMinute", "0");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> ZkServerConfig.from("127.0.0.1", 0, dir, settings::get));
        assertTrue(refused.getMessage().contains("znode.container.maxPerMinute"), refused.getMessage());
        assertEquals(ZkServerConfig.CONTAINER_MAX_PER_MINUTE_DEFAULT,
                ZkServerConfig.forTests(dir).containerMaxPerMinute(), "Apache's default, 10000 a minute");
    }

    private static String describe(List<long[]> samples) {
        StringBuilder text = new StringBuilder();
        for (long[] s : samples) text.append(s[0]).append("ms:").append(s[1]).append(' ');
        return text.toString();
    }
}
