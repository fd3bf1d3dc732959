package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three real nodes on loopback with real files: elect, replicate in order, survive a leader crash, catch up. */
class ZabServerTest {
    @TempDir
    Path dir;

    /** Records commits and fails loudly on any out-of-order delivery. */
    /** Forwarded writes prepared by whichever node led at the time, across restarts. */
    static final java.util.concurrent.atomic.AtomicInteger FORWARDED_PREPARED = new java.util.concurrent.atomic.AtomicInteger();

    static final class RecordingApplication implements ZabServer.Application {
        final List<String> committed = new ArrayList<>();
        long lastZxid;
        volatile String orderViolation;
        @Override
        public byte[] prepareForwarded(byte[] request) {
            FORWARDED_PREPARED.incrementAndGet();
            return request;
        }

        @Override
        public synchronized void onCommit(long zxid, byte[] txn) {
            if (zxid <= lastZxid) {
                orderViolation = Zxid.toString(zxid) + " after " + Zxid.toString(lastZxid);
            }
            lastZxid = zxid;
            committed.add(new String(txn, StandardCharsets.UTF_8));
            maybeCompact();
        }

        /** Set to compact every this many commits (0 = never). */
        int compactEvery;
        ZabServer server;
        volatile int snapshotsInstalled;

        @Override
        public synchronized void onSnapshot(long zxid, SnapshotData snapshot) {
            committed.clear();
            String text;
            try {
                text = new String(snapshot.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (!text.isEmpty()) {
                committed.addAll(List.of(text.split("\n")));
            }
            lastZxid = zxid;
            snapshotsInstalled++;
        }

        synchronized void maybeCompact() {
            if (compactEvery > 0 && server != null && committed.size() % compactEvery == 0) {
                server.compact(lastZxid, SnapshotData.of(String.join("\n", committed).getBytes(StandardCharsets.UTF_8)));
            }
        }

        synchronized List<String> committed() {
            return List.copyOf(committed);
        }
    }

    private final Map<Integer, ZabServer> servers = new HashMap<>();
    private final Map<Integer, RecordingApplication> applications = new HashMap<>();
    private final Map<String, String> settings = new HashMap<>();

    private void start(int id) throws Exception {
        start(id, 0);
    }

    private void start(int id, int compactEvery) throws Exception {
        RecordingApplication application = new RecordingApplication();
        application.compactEvery = compactEvery;
        applications.put(id, application);
        ZabServer server = ZabServer.start(id, settings, dir.resolve("node" + id), application);
        synchronized (application) {
            application.server = server;
        }
        servers.put(id, server);
    }

    private void configureThreeNodes() throws Exception {
        for (int id = 1; id <= 3; id++) {
            settings.put("server." + id, "127.0.0.1:" + QuorumTransportTest.freePort() + ":0");
        }
        settings.put("tickTime", "100");
        settings.put("initLimit", "20");
        settings.put("syncLimit", "10");
    }

    @Test
    void shouldBringAnEmptyNodeUpWithTheLeadersSnapshotAndRestartFromItsOwn() throws Exception {
        configureThreeNodes();
        try {
            start(1, 10);
            start(2, 10);
            await(() -> leader() != null, "a leader of two");
            for (int i = 0; i < 35; i++) {
                write("s" + i, i % 3 == 0);
            }
            await(() -> applications.get(1).committed().size() >= 35 && applications.get(2).committed().size() >= 35,
                    "35 commits on both");
            Thread.sleep(300); // let the compactions queued by the 30th commit run

            start(3, 0);
            RecordingApplication third = applications.get(3);
            await(() -> third.committed().contains("s34"), "the empty node catching up");
            assertTrue(third.snapshotsInstalled >= 1, "a node with an empty log is brought up by SNAP");
            assertEquals(applications.get(1).committed().subList(0, third.committed().size()), third.committed());

            servers.remove(3).close();
            write("after", false);
            start(3, 0);
            RecordingApplication restarted = applications.get(3);
            await(() -> restarted.committed().contains("after"), "the restarted node catching up");
            assertTrue(restarted.snapshotsInstalled >= 1, "a restart begins from the node's own snapshot");
            assertEquals(applications.get(1).committed().subList(0, restarted.committed().size()),
                    restarted.committed());
            assertEquals(null, restarted.orderViolation);
        } finally {
            for (ZabServer server : servers.values()) {
                server.close();
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private ZabServer leader() {
        return servers.values().stream().filter(s -> s.role() == Role.LEADING && s.isServing()).findFirst()
                .orElse(null);
    }

    /** Submits at a serving node until the write shows up at the leader (a write offered mid-election may vanish). */
    private void write(String text, boolean viaFollower) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Integer, ZabServer> entry : servers.entrySet()) {
                boolean isLeader = entry.getValue().role() == Role.LEADING;
                if (entry.getValue().isServing() && isLeader != viaFollower) {
                    entry.getValue().submit(text.getBytes(StandardCharsets.UTF_8));
                    long wait = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (System.nanoTime() < wait) {
                        ZabServer leader = leader();
                        if (leader != null && applications.get(leader.leaderId()).committed().contains(text)) {
                            return;
                        }
                        Thread.sleep(5);
                    }
                    break;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("write " + text + " never committed");
    }

    @Test
    void shouldTimeEachOfTheLeadersProposalsFromProposalToCommit() throws Exception {
        configureThreeNodes();
        Map<Integer, List<Long>> timed = new java.util.concurrent.ConcurrentHashMap<>();
        try {
            for (int id = 1; id <= 3; id++) {
                start(id);
                List<Long> times = java.util.Collections.synchronizedList(new ArrayList<>());
                timed.put(id, times);
                servers.get(id).observeCommitLatency(times::add);
            }
            await(() -> leader() != null, "a leader");
            int leaderId = leader().leaderId();
            for (int i = 0; i < 10; i++) {
                write("t" + i, i % 2 == 0);
            }
            await(() -> timed.get(leaderId).size() >= 10, "the leader timing its 10 proposals");
            synchronized (timed.get(leaderId)) {
                assertTrue(timed.get(leaderId).stream().allMatch(nanos -> nanos > 0), "times: " + timed);
            }
            for (int id = 1; id <= 3; id++) {
                if (id != leaderId && leader().leaderId() == leaderId) {
                    assertEquals(List.of(), timed.get(id), "a follower proposes nothing, so times nothing");
                }
            }
        } finally {
            for (ZabServer server : servers.values()) {
                server.close();
            }
        }
    }

    @Test
    void shouldReplicateInZxidOrderSurviveTheLeaderAndCatchUpARestartedNode() throws Exception {
        configureThreeNodes();
        try {
            for (int id = 1; id <= 3; id++) {
                start(id);
            }
            await(() -> leader() != null, "a leader");
            for (int i = 0; i < 30; i++) {
                write("a" + i, i % 2 == 0);
            }
            await(() -> applications.values().stream().allMatch(app -> app.committed().size() >= 30),
                    "30 commits everywhere");
            List<String> reference = applications.get(1).committed();
            for (RecordingApplication application : applications.values()) {
                assertEquals(reference, application.committed().subList(0, reference.size()));
            }

            int oldLeader = leader().leaderId();
            servers.remove(oldLeader).close();
            await(() -> leader() != null, "a new leader");
            assertTrue(leader().leaderId() != oldLeader);
            for (int i = 0; i < 10; i++) {
                write("b" + i, i % 2 == 0);
            }

            start(oldLeader);
            await(() -> applications.get(oldLeader).committed().contains("b9"), "the restarted node catching up");
            List<String> caughtUp = applications.get(oldLeader).committed();
            List<String> survivor = applications.get(leader().leaderId()).committed();
            assertEquals(survivor.subList(0, caughtUp.size()), caughtUp);
            for (int i = 0; i < 30; i++) {
                assertTrue(caughtUp.contains("a" + i), "a" + i + " survived the leader change");
            }
            for (RecordingApplication application : applications.values()) {
                assertEquals(null, application.orderViolation);
            }
            assertNotNull(leader());
            assertTrue(FORWARDED_PREPARED.get() >= 20,
                    "writes at followers reach the leader's prepare step");
        } finally {
            for (ZabServer server : servers.values()) {
                server.close();
            }
        }
    }
}
