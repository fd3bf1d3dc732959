package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A reconfig on the leader's preparer: a second one while the first is not committed is told ReconfigInProgress
 * (Apache compares its last-seen and committed configurations), and the committed version is the transaction's zxid.
 */
class ReconfigPreparerTest {
    private static final long SESSION = 0x100;
    private static final List<Id> SUPER = List.of(new Id("super", ""));
    private static final Map<String, String> SERVERS = Map.of("server.1", "127.0.0.1:2888:3888",
            "server.2", "127.0.0.1:2889:3889;2181", "server.3", "localhost:2890:3890:participant;127.0.0.1:2182");

    private final DataTree tree = new DataTree();
    private final Map<Long, Session> sessions = new HashMap<>();
    private final Preparer preparer = new Preparer(tree, sessions, new Reconfig(true, true));

    ReconfigPreparerTest() throws ZkException {
        sessions.put(SESSION, new Session(SESSION, 10_000));
        tree.setData(Reconfig.CONFIG_PATH, EnsembleConfig.fromSettings(SERVERS).bytes(), -1, 0, 1);
    }

    private Request reconfig(long from) {
        Request request = new Request(null, SESSION, 1, OpCode.RECONFIG, new ReconfigRequest(null, null, null, from));
        preparer.prepare(request, 0, 1000, SUPER);
        return request;
    }

    private static int error(Request request) {
        return request.header.type() == OpCode.ERROR ? ((ErrorTxn) request.txn).err() : 0;
    }

    @Test
    void shouldPrintTheMembersAsApacheQuorumMajDoes() {
        assertEquals("server.1=127.0.0.1:2888:3888:participant\n"
                        + "server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2181\n"
                        + "server.3=localhost:2890:3890:participant;127.0.0.1:2182\n"
                        + "version=0",
                new String(tree.getNode(Reconfig.CONFIG_PATH).data(), StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintWhatApacheQuorumMajPrintsForTheSameConfiguration() throws Exception {
        String text = new String(tree.getNode(Reconfig.CONFIG_PATH).data(), StandardCharsets.UTF_8);
        java.util.Properties properties = new java.util.Properties();
        properties.load(new java.io.StringReader(text));
        org.apache.zookeeper.server.quorum.flexible.QuorumMaj apache =
                new org.apache.zookeeper.server.quorum.flexible.QuorumMaj(properties);
        assertEquals(text, apache.toString(), "Apache parses our text and prints it back byte for byte");
    }

    @Test
    void shouldAnswerReconfigInProgressUntilTheFirstReconfigIsApplied() {
        Request first = reconfig(0);
        assertEquals(0, error(first));
        assertEquals(KeeperCode.RECONFIG_IN_PROGRESS.code(), error(reconfig(-1)));

        long zxid = 0x200000005L;
        SetDataTxn committed = Reconfig.stamped((SetDataTxn) first.txn, zxid);
        tree.processTxn(new io.tandem.zk.wire.txn.TxnHeader(SESSION, 1, zxid, 2000, OpCode.RECONFIG), committed);
        preparer.applied(first.prepareSequence);

        String text = new String(tree.getNode(Reconfig.CONFIG_PATH).data(), StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\nversion=200000005"), text);
        assertEquals(-1, tree.getNode(Reconfig.CONFIG_PATH).version);
        assertEquals(KeeperCode.BAD_VERSION.code(), error(reconfig(0)), "the old version no longer matches");
        assertEquals(0, error(reconfig(zxid)));
    }

    private Request incremental(String joining, String leaving) {
        Request request = new Request(null, SESSION, 1, OpCode.RECONFIG,
                new ReconfigRequest(joining, leaving, null, -1));
        preparer.prepare(request, 0, 1000, SUPER);
        return request;
    }

    @Test
    void shouldPrepareAddingOrRemovingAnObserverAndRefuseEveryVoterChangeAsUnimplemented() {
        Request added = incremental("server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2183", null);
        assertEquals(0, error(added));
        assertTrue(new String(((SetDataTxn) added.txn).data(), StandardCharsets.UTF_8)
                .endsWith("server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2183\n"));

        EnsembleConfig withObserver = EnsembleConfig.parse(((SetDataTxn) added.txn).data());
        EnsembleConfig current = EnsembleConfig.parse(tree.getNode(Reconfig.CONFIG_PATH).data());
        assertTrue(Reconfig.changesOnlyObservers(current, withObserver));
        assertTrue(Reconfig.changesOnlyObservers(withObserver, current), "removing the observer");
        java.util.Map<Long, String> promoted = new java.util.TreeMap<>(withObserver.members());
        promoted.put(4L, "127.0.0.1:2891:3891:participant;127.0.0.1:2183");
        assertEquals(false, Reconfig.changesOnlyObservers(withObserver, new EnsembleConfig(promoted, 0)),
                "an observer turned voter changes the quorum");
        java.util.Map<Long, String> moved = new java.util.TreeMap<>(withObserver.members());
        moved.put(4L, "127.0.0.1:2899:3899:observer;127.0.0.1:2183");
        assertEquals(false, Reconfig.changesOnlyObservers(withObserver, new EnsembleConfig(moved, 0)),
                "an observer's new address is not taken by a running transport");
    }

    @Test
    void shouldRefuseAddingOrRemovingAVoterAsUnimplemented() {
        assertEquals(KeeperCode.UNIMPLEMENTED.code(),
                error(incremental("server.4=127.0.0.1:2891:3891:participant;127.0.0.1:2183", null)));
        assertEquals(KeeperCode.UNIMPLEMENTED.code(), error(incremental(null, "3")));
        assertEquals(KeeperCode.UNIMPLEMENTED.code(),
                error(incremental("server.3=localhost:2890:3890:observer;127.0.0.1:2182", null)),
                "a voter turned observer");
    }

    @Test
    void shouldRefuseWhenDisabledBeforeLookingAtTheSession() {
        Preparer disabled = new Preparer(tree, Map.of(), new Reconfig(false, true));
        Request request = new Request(null, 0x999, 1, OpCode.RECONFIG, new ReconfigRequest(null, "3", null, -1));
        disabled.prepare(request, 0, 1000, SUPER);
        assertEquals(KeeperCode.RECONFIG_DISABLED.code(), error(request));
    }
}
