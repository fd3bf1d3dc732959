package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ElectionWire.Notification;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The election driver's own limits, over a real election port. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApacheElectionTest {

    @Test
    void notificationsBeyondTheReceiveBoundAreDroppedWhileTheElectionThreadIsBusy() throws Exception {
        int flood = 500;
        Map<Long, ApacheElection.Member> members = Map.of(
                1L, new ApacheElection.Member(1, "127.0.0.1", 0, ApacheQuorumProcess.freePort(), 0),
                3L, new ApacheElection.Member(3, "127.0.0.1", 0, ApacheQuorumProcess.freePort(), 0));
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor();
        CountDownLatch busy = new CountDownLatch(1);
        thread.execute(() -> {
            try {
                busy.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (ApacheElection election = new ApacheElection(1, members, thread).start();
             Socket peer = new Socket("127.0.0.1", election.electionPort())) {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(peer.getOutputStream()));
            out.write(ElectionWire.encodeInitialMessage(3, "127.0.0.1", members.get(3L).electionPort()));
            byte[] vote = ElectionWire.encode(new Notification(ServerState.LOOKING, 3, 0, 1, 0, 2, new byte[0]));
            for (int i = 0; i < flood; i++) {
                out.writeInt(vote.length);
                out.write(vote);
            }
            out.flush();
            assertTrue(ApacheQuorumProcess.await(
                    () -> election.queuedNotifications() + election.droppedNotifications() == flood, 20_000),
                    () -> election.queuedNotifications() + " queued, " + election.droppedNotifications() + " dropped");
            assertEquals(ApacheElection.RECEIVED_QUEUED_MAX, election.queuedNotifications());
            assertEquals(flood - ApacheElection.RECEIVED_QUEUED_MAX, election.droppedNotifications());
            busy.countDown();
            assertTrue(ApacheQuorumProcess.await(() -> election.queuedNotifications() == 0, 20_000),
                    "the waiting ones are still handled");
        }
    }
}
