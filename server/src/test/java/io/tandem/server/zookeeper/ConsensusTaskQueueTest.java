package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.Role;
import io.tandem.server.zab.SnapshotData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What Zab hands the commit thread (commits, role changes, forwarded requests) never waits behind client requests:
 * issue 12's "the Zab thread never blocks on the client request queue".
 */
class ConsensusTaskQueueTest {
    /** A member of three that follows member 2 and does not serve yet; nothing here reaches Zab. */
    private static final SimulatedMember.ZabSide FOLLOWER = new SimulatedMember.ZabSide() {
        @Override
        public boolean isServing() {
            return false;
        }

        @Override
        public Role role() {
            return Role.FOLLOWING;
        }

        @Override
        public int leaderId() {
            return 2;
        }

        @Override
        public long committedZxid() {
            return 0;
        }

        @Override
        public boolean isObserver() {
            return false;
        }

        @Override
        public boolean isSyncedWithLeader(int id) {
            return false;
        }

        @Override
        public SnapshotData writeSnapshot(long zxid, byte[] tree) {
            throw new UnsupportedOperationException("no snapshot in this test");
        }
    };

    @Test
    void aConsensusTaskIsTakenAtOnceWhenClientsFilledTheQueueAndRunsAheadOfThem() throws Exception {
        ZkServer server = new SimulatedMember(1, 3, 0, 100_000, FOLLOWER, () -> 0L).server();
        List<String> ran = new ArrayList<>();
        int queued = 0;
        while (server.submit(new Request(null, 0, 0, Request.KIND_TASK, (Runnable) () -> ran.add("client")))) {
            queued++;
        }
        assertEquals(ZkServer.QUEUE_REQUESTS_MAX, queued);

        // The consensus thread's hand-over: with the task on the client queue it waited here until a turn made room.
        CompletableFuture<Void> handedOver = CompletableFuture.runAsync(
                () -> server.runOnCommitThread(() -> ran.add("commit")));
        handedOver.get(10, TimeUnit.SECONDS);

        server.runCommitTurn();
        assertFalse(ran.isEmpty());
        assertEquals("commit", ran.get(0), "the commit runs in the next turn, ahead of the client backlog");
        while (ran.size() < queued + 1) {
            int before = ran.size();
            server.runCommitTurn();
            assertTrue(ran.size() > before, "every client request is still taken");
        }
        assertEquals(queued, ran.stream().filter("client"::equals).count());
    }
}
