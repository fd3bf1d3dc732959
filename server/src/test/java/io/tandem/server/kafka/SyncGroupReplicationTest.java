package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SyncGroup answers only once the generation's group record is in every in-sync replica of the group's
 * {@code __consumer_offsets} partition, as Kafka 3.9's GroupMetadataManager.storeGroup (an append with acks=-1 and
 * {@code offsets.commit.timeout.ms}, 5 s). Three brokers replicate the offsets topic; the coordinator's link to one
 * follower is cut ({@code TandemCluster.partition}: the follower's fetches get no answer) while that follower stays
 * in the ISR ({@code replica.lag.time.max.ms} far above the test), so the high watermark cannot pass the record.
 * A coordinator that answered at the local append would answer at once, NONE.
 */
class SyncGroupReplicationTest {
    private static final String OFFSETS = "__consumer_offsets";
    private static final byte[] ASSIGNMENT = {0, 1, 2, 3};
    private static final byte[] OTHER_ASSIGNMENT = {4, 5};
    /** Far below Kafka's 5 s offsets.commit.timeout.ms, far above an answer that does not wait. */
    private static final long SILENT_MS = 1_500;

    @TempDir
    Path dir;
    private TandemCluster cluster;
    private Admin admin;

    @BeforeEach
    void start() throws IOException {
        cluster = TandemCluster.start(dir, 3, c -> c.set("offsets.topic.num.partitions", "1")
                .set("offsets.topic.replication.factor", "3")
                .set("replica.lag.time.max.ms", "120000")
                .set("group.initial.rebalance.delay.ms", "0"));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    }

    @AfterEach
    void stop() {
        if (admin != null) admin.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void shouldAnswerSyncGroupOnlyOnceTheGroupRecordIsReplicated() throws Exception {
        int coordinator = coordinatorWithFullIsr("waits");
        int follower = coordinator % 3 + 1;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            JoinGroupResponse join = join(c, "waits");
            cluster.partition(coordinator, follower);
            CompletableFuture<SyncGroupResponse> sync = syncAsync(c, "waits", join);
            Thread.sleep(SILENT_MS);
            assertFalse(sync.isDone(), "SyncGroup answered while a follower in the ISR lacked the group record: "
                    + (sync.isDone() ? sync.get().data() : ""));

            // The follower fetches again: the record reaches the whole ISR and the member gets its assignment.
            cluster.heal(coordinator, follower);
            SyncGroupResponse answered = sync.get(30, TimeUnit.SECONDS);
            assertEquals(Errors.NONE.code(), answered.data().errorCode());
            assertArrayEquals(ASSIGNMENT, answered.data().assignment());
        }
    }

    /**
     * As Kafka's doSyncGroup, the group moves to Stable in storeGroup's callback: DescribeGroups says
     * CompletingRebalance while the record waits for the stalled follower, and a follower member's SyncGroup sent
     * meanwhile waits with the leader's; once the follower fetches again, both get their assignments and the group
     * is Stable.
     */
    @Test
    void shouldKeepTheGroupCompletingRebalanceUntilTheGroupRecordIsReplicated() throws Exception {
        int coordinator = coordinatorWithFullIsr("describes");
        int follower = coordinator % 3 + 1;
        int port = cluster.broker(coordinator).kafkaPort();
        try (OfficialClientConnection leaderConnection = new OfficialClientConnection(port);
             OfficialClientConnection memberConnection = new OfficialClientConnection(port);
             OfficialClientConnection describer = new OfficialClientConnection(port)) {
            JoinGroupResponse first = join(leaderConnection, "describes");
            assertEquals(Errors.NONE.code(), syncAsync(leaderConnection, "describes", first)
                    .get(30, TimeUnit.SECONDS).data().errorCode());
            assertEquals("Stable", groupState(describer, "describes"));
            // A second member joins; the first rejoins and leads generation 2 with both.
            CompletableFuture<JoinGroupResponse> second = joinAsync(memberConnection, "describes");
            // The first member rejoins only once the second's join started the rebalance, so both are in it.
            long deadline = System.currentTimeMillis() + 30_000;
            while (!groupState(describer, "describes").equals("PreparingRebalance")) {
                assertTrue(System.currentTimeMillis() < deadline, "the second member's join started no rebalance");
                Thread.sleep(20);
            }
            JoinGroupResponse leader = joinRequest(leaderConnection, "describes", first.data().memberId());
            JoinGroupResponse member = second.get(30, TimeUnit.SECONDS);
            assertEquals(Errors.NONE.code(), leader.data().errorCode());
            assertEquals(leader.data().memberId(), leader.data().leader());
            assertEquals(leader.data().generationId(), member.data().generationId());

            cluster.partition(coordinator, follower);
            CompletableFuture<SyncGroupResponse> memberSync = syncAsync(memberConnection, "describes", member,
                    Map.of());
            CompletableFuture<SyncGroupResponse> leaderSync = syncAsync(leaderConnection, "describes", leader,
                    Map.of(leader.data().memberId(), ASSIGNMENT, member.data().memberId(), OTHER_ASSIGNMENT));
            long until = System.currentTimeMillis() + SILENT_MS;
            while (System.currentTimeMillis() < until) {
                assertEquals("CompletingRebalance", groupState(describer, "describes"),
                        "the group left CompletingRebalance before its record reached the ISR");
                Thread.sleep(100);
            }
            assertFalse(leaderSync.isDone());
            assertFalse(memberSync.isDone(), "a follower member was answered before the record reached the ISR");

            cluster.heal(coordinator, follower);
            SyncGroupResponse leaderAnswer = leaderSync.get(30, TimeUnit.SECONDS);
            SyncGroupResponse memberAnswer = memberSync.get(30, TimeUnit.SECONDS);
            assertEquals(Errors.NONE.code(), leaderAnswer.data().errorCode());
            assertArrayEquals(ASSIGNMENT, leaderAnswer.data().assignment());
            assertEquals(Errors.NONE.code(), memberAnswer.data().errorCode());
            assertArrayEquals(OTHER_ASSIGNMENT, memberAnswer.data().assignment());
            assertEquals("Stable", groupState(describer, "describes"));
        }
    }

    @Test
    void shouldAnswerRebalanceInProgressWhenTheGroupRecordIsNotReplicatedInTime() throws Exception {
        int coordinator = coordinatorWithFullIsr("times-out");
        int follower = coordinator % 3 + 1;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            JoinGroupResponse join = join(c, "times-out");
            cluster.partition(coordinator, follower);
            long sent = System.nanoTime();
            SyncGroupResponse answered = syncAsync(c, "times-out", join).get(30, TimeUnit.SECONDS);
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            // Kafka's storeGroup maps the append's REQUEST_TIMED_OUT to REBALANCE_IN_PROGRESS, with no assignment.
            assertEquals(Errors.REBALANCE_IN_PROGRESS.code(), answered.data().errorCode(),
                    "answered " + answered.data() + " after " + waitedMs + " ms");
            assertEquals(0, answered.data().assignment().length);
            assertTrue(waitedMs >= 4_000, "answered after " + waitedMs + " ms, before offsets.commit.timeout.ms");
        } finally {
            cluster.heal(coordinator, follower);
        }
    }

    /** The group's coordinator (the leader of the one offsets partition) once all three replicas are in its ISR. */
    private int coordinatorWithFullIsr(String group) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            while (true) {
                FindCoordinatorResponse found = c.call(new FindCoordinatorRequest.Builder(
                        new FindCoordinatorRequestData().setKey(group).setKeyType((byte) 0)).build((short) 2));
                if (found.data().errorCode() == Errors.NONE.code()) {
                    List<Tandem> brokers = new ArrayList<>();
                    for (int id = 1; id <= 3; id++) brokers.add(cluster.broker(id));
                    PartitionWaits.awaitIsrSize(admin, brokers, OFFSETS, 0, 3);
                    int leader = PartitionWaits.describe(admin, OFFSETS).partitions().get(0).leader().id();
                    assertEquals(found.data().nodeId(), leader);
                    return leader;
                }
                assertTrue(System.currentTimeMillis() < deadline, "no coordinator: " + found.data());
                Thread.sleep(100);
            }
        }
    }

    /** A lone member joins (JoinGroup v3 assigns the member id at once) and leads generation 1. */
    private static JoinGroupResponse join(OfficialClientConnection c, String group) throws IOException {
        JoinGroupResponse join = joinRequest(c, group, "");
        assertEquals(Errors.NONE.code(), join.data().errorCode());
        assertEquals(join.data().memberId(), join.data().leader());
        return join;
    }

    private static JoinGroupResponse joinRequest(OfficialClientConnection c, String group, String memberId)
            throws IOException {
        return c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData()
                .setGroupId(group).setMemberId(memberId).setProtocolType("consumer")
                .setSessionTimeoutMs(30_000).setRebalanceTimeoutMs(30_000)
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                        new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                .setMetadata(new byte[0])).iterator()))).build((short) 3));
    }

    /** A JoinGroup sent on another thread (it waits for the rebalance to complete). */
    private static CompletableFuture<JoinGroupResponse> joinAsync(OfficialClientConnection c, String group) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return joinRequest(c, group, "");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static String groupState(OfficialClientConnection c, String group) throws IOException {
        DescribeGroupsResponse described = c.call(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                .setGroups(List.of(group))).build((short) 0));
        assertEquals(Errors.NONE.code(), described.data().groups().get(0).errorCode());
        return described.data().groups().get(0).groupState();
    }

    /** The leader's SyncGroup with its own assignment, sent and awaited on another thread. */
    private static CompletableFuture<SyncGroupResponse> syncAsync(OfficialClientConnection c, String group,
                                                                  JoinGroupResponse join) {
        return syncAsync(c, group, join, Map.of(join.data().memberId(), ASSIGNMENT));
    }

    /** A member's SyncGroup with these assignments (none from a follower), sent and awaited on another thread. */
    private static CompletableFuture<SyncGroupResponse> syncAsync(OfficialClientConnection c, String group,
                                                                  JoinGroupResponse join,
                                                                  Map<String, byte[]> assignments) {
        List<SyncGroupRequestData.SyncGroupRequestAssignment> given = new ArrayList<>();
        assignments.forEach((memberId, assignment) -> given.add(
                new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(memberId)
                        .setAssignment(assignment)));
        SyncGroupRequest request = new SyncGroupRequest.Builder(new SyncGroupRequestData()
                .setGroupId(group).setMemberId(join.data().memberId()).setGenerationId(join.data().generationId())
                .setAssignments(given)).build((short) 1);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.call(request);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
