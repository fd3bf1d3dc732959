package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.StatsTrack;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zkCli 3.9's {@code setquota}, {@code listquota} and {@code delquota}: one {@code zk shell} script against Apache
 * ZooKeeper 3.9 in-process and against Tandem must print the same, which needs the server to keep
 * {@code zookeeper_stats} as Apache's does (the counts move with creates, sets and deletes under the quota); and with
 * {@code enforceQuota} Tandem refuses writes past a hard limit with QUOTA_EXCEEDED, as Apache 3.9's checkQuota does.
 */
class ZkQuotaCommandsTest {
    private static final String SCRIPT = String.join("\n",
            "create /q",
            "create /q/a 12345",
            "setquota -n 3 /q",
            "listquota /q",
            "create /q/b xy",
            "create /q/a/c",
            "set /q/a 1",
            "listquota /q",
            "setquota -B 100 /q",
            "setquota -N 2 /q",
            "listquota /q",
            "get /zookeeper/quota/q/zookeeper_stats",
            "setquota -n 1 /q/a",
            "setquota -n 0 /q",
            "setquota -b -1 /q",
            "setquota -n 1 /nope",
            "setquota -n 1 /zookeeper/quota/q",
            "delquota -N /q",
            "listquota /q",
            "delete /q/a/c",
            "delete /q/b",
            "listquota /q",
            "delquota /q",
            "listquota /q",
            "delquota /q",
            "ls /zookeeper/quota",
            "setquota -b 10 /q/a",
            "setquota -n 5 /q",
            "ls -R /zookeeper/quota") + "\n";

    @TempDir
    Path dir;

    @Test
    void shouldAnswerTheScriptAsApacheZooKeeperDoes() throws Exception {
        ZkSideBySide.Results<Cli.Result> results =
                ZkSideBySide.run(dir, server -> ZkSideBySide.shell(server, SCRIPT));
        Cli.Result fromApache = results.apache();
        Cli.Result fromTandem = results.tandem();
        assertEquals(fromApache.toString(), fromTandem.toString());

        // The script's own checks, so that it cannot pass by failing alike on both.
        List<String> out = fromTandem.out().lines().toList();
        int at = 0;
        assertEquals("Created /q", out.get(at++));
        assertEquals("Created /q/a", out.get(at++));
        assertEquals("Output quota for /q count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1", out.get(at++));
        assertEquals("Output stat for /q count=2,bytes=5", out.get(at++), "/q and /q/a, five bytes");
        assertEquals("Created /q/b", out.get(at++));
        assertEquals("Created /q/a/c", out.get(at++));
        assertEquals("Output quota for /q count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1", out.get(at++));
        assertEquals("Output stat for /q count=4,bytes=3", out.get(at++), "two creates, a set from 5 bytes to 1");
        // setquota -B and -N: the soft count limit (3) is passed already, so each warns.
        assertEquals("[Warning]: the count quota you create is less than the existing count:4", out.get(at++));
        assertEquals("[Warning]: the count quota you create is less than the existing count:4", out.get(at++));
        assertEquals("Output quota for /q count=3,bytes=-1=;byteHardLimit=100;countHardLimit=2", out.get(at++));
        assertEquals("Output stat for /q count=4,bytes=3", out.get(at++));
        assertEquals("count=4,bytes=3", out.get(at++));
        assertEquals("Output quota for /q count=3,bytes=-1=;byteHardLimit=100;countHardLimit=-1", out.get(at++));
        assertEquals("Output stat for /q count=4,bytes=3", out.get(at++));
        assertEquals("Output quota for /q count=3,bytes=-1=;byteHardLimit=100;countHardLimit=-1", out.get(at++));
        assertEquals("Output stat for /q count=2,bytes=1", out.get(at++), "two deletes");
        assertEquals("Quota does not exist for /q", out.get(at++));
        // ls /zookeeper/quota prints no line: delquota trimmed /zookeeper/quota/q away. Then the quota of /q/a.
        assertEquals(List.of("/zookeeper/quota", "/zookeeper/quota/q", "/zookeeper/quota/q/a",
                "/zookeeper/quota/q/a/zookeeper_limits", "/zookeeper/quota/q/a/zookeeper_stats"),
                out.subList(at, out.size()));
        String err = fromTandem.err();
        assertTrue(err.contains("error: /q/a has a parent /q which has a quota\n"), err);
        assertTrue(err.contains("error: the num quota must be greater than zero\n"), err);
        assertTrue(err.contains("error: the bytes quota must be greater than or equal to zero\n"), err);
        assertTrue(err.contains("error: /nope does not exist.\n"), err);
        assertTrue(err.contains("error: cannot set a quota under the path: /zookeeper/quota\n"), err);
        assertTrue(err.contains("error: quota for /q does not exist.\n"), err);
        assertTrue(err.endsWith("error: /q has a child /q/a which has a quota\n"), err);
    }

    @Test
    void shouldRefuseWritesPastAHardLimitWhenEnforcingAndKeepCountsOverARestart() throws Exception {
        Path data = dir.resolve("enforced");
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(data).set("enforceQuota", "true")
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeper zk = ZkSideBySide.officialClient(tandem.zookeeperConnect())) {
            zk.create("/e", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Cli.Result set = Cli.run("zk", "setquota", "-N", "3", "/e", "--server", tandem.zookeeperConnect());
            assertEquals(ExitCodes.OK, set.exitCode(), set.toString());
            zk.create("/e/1", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/e/2", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            KeeperException.QuotaExceededException refused = assertThrows(
                    KeeperException.QuotaExceededException.class,
                    () -> zk.create("/e/3", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            // The reply carries only the code; the client names the path it asked for.
            assertEquals("/e/3", refused.getPath());
            assertEquals(-125, refused.code().intValue());
            // A soft limit is only logged.
            Cli.Result soft = Cli.run("zk", "setquota", "-b", "4", "/e", "--server", tandem.zookeeperConnect());
            assertEquals(ExitCodes.OK, soft.exitCode(), soft.toString());
            zk.setData("/e/1", "12345".getBytes(StandardCharsets.UTF_8), -1);
            Cli.Result hard = Cli.run("zk", "setquota", "-B", "8", "/e", "--server", tandem.zookeeperConnect());
            assertEquals(ExitCodes.OK, hard.exitCode(), hard.toString());
            assertThrows(KeeperException.QuotaExceededException.class,
                    () -> zk.setData("/e/2", "1234".getBytes(StandardCharsets.UTF_8), -1));
            zk.setData("/e/2", "123".getBytes(StandardCharsets.UTF_8), -1);
            // Outside the quota nothing is limited.
            zk.create("/free", "0123456789".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            StatsTrack stats = new StatsTrack(zk.getData("/zookeeper/quota/e/zookeeper_stats", false, null));
            assertEquals(3, stats.getCount());
            assertEquals(8, stats.getBytes());
            Cli.Result shown = Cli.run("zk", "listquota", "/e", "--server", tandem.zookeeperConnect());
            assertEquals("Output quota for /e count=-1,bytes=4=;byteHardLimit=8;countHardLimit=3\n"
                    + "Output stat for /e count=3,bytes=8\n", shown.out(), shown.toString());
            // The CLI's own error for the refusal.
            Cli.Result cliRefused = Cli.run("zk", "create", "/e/4", "--server", tandem.zookeeperConnect());
            assertEquals(ExitCodes.ERROR, cliRefused.exitCode(), cliRefused.toString());
            assertTrue(cliRefused.err().contains("QUOTA_EXCEEDED"), cliRefused.err());
        }
        // After a restart (snapshot and log read back) the counts and the limits still hold.
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(data).set("enforceQuota", "true")
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeper zk = ZkSideBySide.officialClient(tandem.zookeeperConnect())) {
            assertEquals("count=3,bytes=8", new String(zk.getData("/zookeeper/quota/e/zookeeper_stats", false, null),
                    StandardCharsets.UTF_8));
            assertThrows(KeeperException.QuotaExceededException.class,
                    () -> zk.create("/e/3", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            zk.delete("/e/2", -1);
            zk.create("/e/3", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEquals("count=3,bytes=5", new String(zk.getData("/zookeeper/quota/e/zookeeper_stats", false, null),
                    StandardCharsets.UTF_8));
        }
    }
}
