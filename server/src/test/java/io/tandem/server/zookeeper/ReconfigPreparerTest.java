package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
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
 * Voters and observers may be added, removed or change roles; Apache's refusals stay.
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
        tree.setData(SpecialPaths.CONFIG, EnsembleConfig.fromSettings(SERVERS).bytes(), -1, 0, 1);
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
                new String(tree.getNode(SpecialPaths.CONFIG).data(), StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintWhatApacheQuorumMajPrintsForTheSameConfiguration() throws Exception {
        String text = new String(tree.getNode(SpecialPaths.CONFIG).data(), StandardCharsets.UTF_8);
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

        String text = new String(tree.getNode(SpecialPaths.CONFIG).data(), StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\nversion=200000005"), text);
        assertEquals(-1, tree.getNode(SpecialPaths.CONFIG).version);
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
    void shouldPrepareAddingOrRemovingAnObserverOrAVoterAndChangingARole() {
        Request added = incremental("server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2183", null);
        assertEquals(0, error(added));
        assertTrue(new String(((SetDataTxn) added.txn).data(), StandardCharsets.UTF_8)
                .endsWith("server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2183\n"));
        preparer.clear();
        Request voter = incremental("server.4=127.0.0.1:2891:3891:participant;127.0.0.1:2183", null);
        assertEquals(0, error(voter), "a voter added");
        assertEquals(4, EnsembleConfig.parse(((SetDataTxn) voter.txn).data()).votingCount());
        preparer.clear();
        Request removed = incremental(null, "3");
        assertEquals(0, error(removed), "a voter removed");
        assertEquals(2, EnsembleConfig.parse(((SetDataTxn) removed.txn).data()).votingCount());
        preparer.clear();
        Request demoted = incremental("server.3=localhost:2890:3890:observer;127.0.0.1:2182", null);
        assertEquals(0, error(demoted), "a voter turned observer");
        assertTrue(new String(((SetDataTxn) demoted.txn).data(), StandardCharsets.UTF_8)
                .contains("server.3=localhost:2890:3890:observer;127.0.0.1:2182\n"));
    }

    @Test
    void shouldRefuseFewerThanTwoVotersAndANewConfigurationWithoutASyncedQuorum() {
        assertEquals(KeeperCode.BAD_ARGUMENTS.code(), error(incremental(null, "2,3")),
                "Apache (standaloneEnabled) wants two voters at least");
        preparer.reconfig().syncedWithLeader(id -> id == 1 || id == 2); // the leader and one follower synced
        assertEquals(KeeperCode.NEW_CONFIG_NO_QUORUM.code(), error(incremental(
                "server.4=127.0.0.1:2891:3891;127.0.0.1:2183,server.5=127.0.0.1:2892:3892;127.0.0.1:2184", null)),
                "3 of {1,2,3,4,5} must be synced, only 1 and 2 are");
        assertEquals(0, error(incremental(null, "3")), "{1,2} is synced: removing 3 is fine");
    }

    @Test
    void shouldRefuseWhenDisabledBeforeLookingAtTheSession() {
        Preparer disabled = new Preparer(tree, Map.of(), new Reconfig(false, true));
        Request request = new Request(null, 0x999, 1, OpCode.RECONFIG, new ReconfigRequest(null, "3", null, -1));
        disabled.prepare(request, 0, 1000, SUPER);
        assertEquals(KeeperCode.RECONFIG_DISABLED.code(), error(request));
    }
}
