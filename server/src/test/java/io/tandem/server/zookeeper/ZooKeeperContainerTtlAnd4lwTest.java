package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Container and TTL nodes, cleaned up by the periodic check, and the four-letter words with a whitelist. */
class ZooKeeperContainerTtlAnd4lwTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper zk;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("znode.container.checkIntervalMs", "100")
                .set("4lw.commands.whitelist", "ruok, mntr,srvr,stat,conf,cons,wchs,wchc,wchp,dump,envi,isro"));
        zk = ZkTestSupport.connect(tandem.zookeeperConnect());
    }

    @AfterAll
    static void stop() throws Exception {
        zk.close();
        tandem.close();
    }

    private static void awaitGone(String path) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (zk.exists(path, false) != null) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(path + " was not cleaned up");
            }
            Thread.sleep(50);
        }
    }

    @Test
    void shouldDeleteContainerOnlyAfterItHadAChildAndIsEmpty() throws Exception {
        Stat stat = new Stat();
        zk.create("/container", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, stat);
        assertEquals(0, stat.getEphemeralOwner(), "clients see 0 as a container's ephemeralOwner");
        Thread.sleep(400);
        assertNotNull(zk.exists("/container", false), "a never-used container stays");
        zk.create("/container/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Thread.sleep(300);
        assertNotNull(zk.exists("/container", false), "a container with children stays");
        zk.delete("/container/child", -1);
        awaitGone("/container");
    }

    @Test
    void shouldExpireUnmodifiedChildlessTtlNode() throws Exception {
        Stat stat = new Stat();
        zk.create("/ttl", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, stat, 300);
        assertEquals(0, stat.getEphemeralOwner());
        String sequential = zk.create("/ttl-seq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 60_000);
        assertTrue(sequential.startsWith("/ttl-seq-"));
        awaitGone("/ttl");
        assertNotNull(zk.exists(sequential, false), "a TTL that has not run out keeps the node");
    }

    private static String fourLetterWord(String word) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", tandem.zookeeperPort())) {
            socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void shouldAnswerWhitelistedFourLetterWordsOnly() throws Exception {
        assertEquals("imok", fourLetterWord("ruok"));
        assertEquals("rw", fourLetterWord("isro"));
        String mntr = fourLetterWord("mntr");
        assertTrue(mntr.contains("zk_version\t3.9"), mntr);
        assertTrue(mntr.contains("zk_server_state\tstandalone"), mntr);
        assertTrue(mntr.matches("(?s).*zk_znode_count\t\\d+\n.*"), mntr);
        assertTrue(mntr.contains("zk_avg_latency\t"), mntr);
        String srvr = fourLetterWord("srvr");
        assertTrue(srvr.startsWith("Zookeeper version: 3.9"), srvr);
        assertTrue(srvr.contains("Mode: standalone"), srvr);
        assertTrue(fourLetterWord("stat").contains("Clients:"));
        assertTrue(fourLetterWord("conf").contains("tickTime=2000"));
        assertTrue(fourLetterWord("envi").startsWith("Environment:"));
        zk.exists("/watched-by-4lw", true);
        assertTrue(fourLetterWord("wchp").contains("/watched-by-4lw"));
        assertTrue(fourLetterWord("wchs").contains("Total watches:"));
        assertTrue(fourLetterWord("cons").contains("sid=0x" + Long.toHexString(zk.getSessionId())));
        assertEquals("gtmk is not executed because it is not in the whitelist.\n", fourLetterWord("gtmk"));
        assertNull(zk.exists("/watched-by-4lw", false));
    }
}
