package io.tandem.server;

import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.LeakWatch;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.group.GroupCoordinator;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JoinGroup or SyncGroup the group coordinator parks holds its request frame until it is answered. A broker that
 * stops while such requests wait (one whose client has gone, one whose client still waits) must answer them, so their
 * frames are released: Netty's leak detector, paranoid for the test, reports any frame that was not. Before the fix
 * the coordinator dropped them unanswered at shutdown and the detector reported the JoinGroup and SyncGroup frames.
 */
class ParkedGroupRequestsLeakTest {
    @TempDir
    Path dir;

    @Test
    void parkedJoinAndSyncGroupsShouldReleaseTheirFramesWhenTheBrokerStops() throws Exception {
        try (LeakWatch watch = new LeakWatch()) {
            parkRequestsAndStop();
            watch.assertNoLeaks();
        }
    }

    /** Parks a SyncGroup (its client then closes) and a JoinGroup (its client waits) on one broker, and stops it. */
    private void parkRequestsAndStop() throws Exception {
        TandemCluster cluster = TandemCluster.start(dir, 1, c -> c.set("offsets.topic.num.partitions", "1")
                .set("offsets.topic.replication.factor", "1")
                .set("group.initial.rebalance.delay.ms", "0"));
        try {
            GroupCoordinator coordinator = cluster.broker(1).kafkaBroker().groups();
            int port = cluster.broker(1).kafkaPort();
            try (OfficialClientConnection leader = new OfficialClientConnection(port);
                 OfficialClientConnection follower = new OfficialClientConnection(port);
                 OfficialClientConnection other = new OfficialClientConnection(port);
                 OfficialClientConnection joiner = new OfficialClientConnection(port)) {
                GroupCoordinators.await(leader, "syncs");
                // Generation 2 of "syncs" has both members; the follower's SyncGroup waits for the leader's.
                JoinGroupResponse first = join(leader, "syncs", "");
                CompletableFuture<JoinGroupResponse> second = async(follower, joinRequest("syncs", ""));
                awaitMembersAwaitingAnswer(coordinator, 1);
                JoinGroupResponse rejoined = join(leader, "syncs", first.data().memberId());
                JoinGroupResponse member = second.get(30, TimeUnit.SECONDS);
                assertEquals(Errors.NONE.code(), member.data().errorCode());
                assertEquals(rejoined.data().generationId(), member.data().generationId());
                CompletableFuture<AbstractResponse> sync = async(follower, new SyncGroupRequest.Builder(
                        new SyncGroupRequestData().setGroupId("syncs").setMemberId(member.data().memberId())
                                .setGenerationId(member.data().generationId()).setAssignments(List.of()))
                        .build((short) 1));
                awaitMembersAwaitingAnswer(coordinator, 1);

                // In "joins" a second member's JoinGroup waits for the first member to rejoin.
                join(other, "joins", "");
                async(joiner, joinRequest("joins", ""));
                awaitMembersAwaitingAnswer(coordinator, 2);

                // The SyncGroup's client goes; its request stays parked, as Kafka's does, until answered.
                follower.close();
                assertTrue(!sync.isDone() || sync.isCompletedExceptionally(), "the SyncGroup was answered");
                cluster.close();
                cluster = null;
            }
        } finally {
            if (cluster != null) cluster.close();
        }
    }

    private static void awaitMembersAwaitingAnswer(GroupCoordinator coordinator, int count)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (coordinator.membersAwaitingAnswer() != count) {
            assertTrue(System.currentTimeMillis() < deadline, coordinator.membersAwaitingAnswer()
                    + " members wait for an answer, not " + count);
            Thread.sleep(10);
        }
    }

    /** JoinGroup v3, which gives a new member its id at once; a lone member leads the new generation. */
    private static JoinGroupResponse join(OfficialClientConnection c, String group, String memberId)
            throws IOException {
        JoinGroupResponse join = c.call(joinRequest(group, memberId));
        assertEquals(Errors.NONE.code(), join.data().errorCode());
        return join;
    }

    private static JoinGroupRequest joinRequest(String group, String memberId) {
        return new JoinGroupRequest.Builder(new JoinGroupRequestData()
                .setGroupId(group).setMemberId(memberId).setProtocolType("consumer")
                .setSessionTimeoutMs(30_000).setRebalanceTimeoutMs(30_000)
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                        new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                .setMetadata(new byte[0])).iterator()))).build((short) 3);
    }

    /** A request sent and awaited on another thread (it is parked). */
    private static <R extends AbstractResponse> CompletableFuture<R> async(OfficialClientConnection c,
                                                                             AbstractRequest request) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.call(request);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
