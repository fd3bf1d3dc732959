package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The quorum transport's fault-injection seam ({@link QuorumFaults}): a cut link carries nothing either way though its
 * connection stays open, and healing closes that connection so the members redial and talk again.
 */
class QuorumFaultsTransportTest {
    record Received(int from, ZabMessage message) {}

    @Test
    void shouldCarryNothingOverACutLinkAndRedialWhenItHeals() throws Exception {
        Map<Integer, QuorumTransport.Peer> peers = Map.of(
                1, new QuorumTransport.Peer(1, "127.0.0.1", QuorumTransportTest.freePort(), -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", QuorumTransportTest.freePort(), -1));
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Integer> disconnectsAt2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> at1.add(new Received(from, m))).start();
             QuorumTransport two = new QuorumTransport(2, peers, new QuorumTransport.Inbound() {
                 @Override
                 public void onMessage(int from, ZabMessage message) {
                     at2.add(new Received(from, message));
                 }

                 @Override
                 public void onDisconnected(int peer) {
                     disconnectsAt2.add(peer);
                 }
             }).start()) {
            awaitConnected(one, two);
            // Only member 2 knows of the cut, as when one process of an ensemble is told: both directions go silent.
            CompletableFuture<Void> heal = new CompletableFuture<>();
            two.faults(peer -> peer == 1 && !heal.isDone() ? heal : null);
            one.send(2, new ZabMessage.Ping(7, 1));
            two.send(1, new ZabMessage.Ping(7, 2));
            assertNull(at2.poll(500, TimeUnit.MILLISECONDS), "nothing arrives over a cut link");
            assertNull(at1.poll(100, TimeUnit.MILLISECONDS), "nothing leaves over a cut link");
            assertTrue(one.isConnected(2) && two.isConnected(1), "a partition leaves the connection open");
            assertTrue(disconnectsAt2.isEmpty());

            heal.complete(null);
            assertEquals(1, disconnectsAt2.poll(10, TimeUnit.SECONDS), "the stale connection is closed on heal");
            // Member 1 may still hold the closing connection for a moment: what it sends there is lost, as Zab expects
            // of any connection, so it sends until one arrives over the new one.
            Received after = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 0; after == null && System.nanoTime() < deadline; i++) {
                one.send(2, new ZabMessage.Ping(8, i));
                after = at2.poll(100, TimeUnit.MILLISECONDS);
            }
            assertTrue(after != null && after.from() == 1 && after.message() instanceof ZabMessage.Ping,
                    "messages flow again after the heal: " + after);
        }
    }

    private static void awaitConnected(QuorumTransport one, QuorumTransport two) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(one.isConnected(2) && two.isConnected(1)) && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(one.isConnected(2) && two.isConnected(1), "the members connect");
    }
}
