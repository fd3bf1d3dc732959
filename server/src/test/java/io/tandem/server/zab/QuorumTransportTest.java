package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.TestPorts;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class QuorumTransportTest {
    record Received(int from, ZabMessage message) {}

    static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    @Test
    void shouldParseServerLinesAndRejectBadOnes() {
        Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(Map.of(
                "server.1", "zk1:2888:3888", "server.2", "zk2:2889:3889:participant;0.0.0.0:2181", "tickTime", "2000"));
        assertEquals(new QuorumTransport.Peer(1, "zk1", 2888, 3888), peers.get(1));
        assertEquals(new QuorumTransport.Peer(2, "zk2", 2889, 3889), peers.get(2));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.x", "h:1:2")));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h")));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h:70000:1")));
        // electionPort: optional (-1), but when given a valid port, distinct from quorumPort and from other servers'.
        assertEquals(-1, QuorumTransport.parsePeers(Map.of("server.1", "zk1:2888")).get(1).electionPort());
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h:1:70000")));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h:1:-2")));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h:1:x")));
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(Map.of("server.1", "h:2888:2888")));
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(
                Map.of("server.1", "h:2888:3888", "server.2", "h:2889:2888")));
        assertTrue(clash.getMessage().contains("h:2888"), clash.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QuorumTransport.parsePeers(
                Map.of("server.1", "h:2888:3888", "server.2", "H:2888:3889")));
        // The same ports on different hosts, and port 0 ("any free port") anywhere, are fine.
        assertEquals(2, QuorumTransport.parsePeers(Map.of("server.1", "a:2888:3888", "server.2", "b:2888:3888")).size());
        assertEquals(2, QuorumTransport.parsePeers(Map.of("server.1", "h:2888:0", "server.2", "h:2889:0")).size());
    }

    @Test
    void shouldDeliverMessagesBetweenPeersOverOneConnection() throws Exception {
        int port1 = freePort();
        int port2 = freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", port2, -1));
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> at1.add(new Received(from, m))).start();
             QuorumTransport two = new QuorumTransport(2, peers, (from, m) -> at2.add(new Received(from, m))).start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(one.isConnected(2) && two.isConnected(1)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            one.send(2, new ZabMessage.Ping(7, 1));
            two.send(1, new ZabMessage.Ack(7, 2, Zxid.of(1, 3)));
            assertEquals(new Received(1, new ZabMessage.Ping(7, 1)), at2.poll(10, TimeUnit.SECONDS));
            assertEquals(new Received(2, new ZabMessage.Ack(7, 2, Zxid.of(1, 3))), at1.poll(10, TimeUnit.SECONDS));
        }
    }

    private static boolean await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Test
    void shouldTakeOnlyNotificationsFromAServerTheConfigurationDoesNotNameUntilAReconfigAddsIt() throws Exception {
        QuorumTransport.Peer first = new QuorumTransport.Peer(1, "127.0.0.1", freePort(), -1);
        QuorumTransport.Peer joiner = new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1, true);
        LinkedBlockingQueue<Received> at1 = new LinkedBlockingQueue<>();
        ZabMessage.Notification question = new ZabMessage.Notification(2, 0, 0, 1, Role.LOOKING);
        try (QuorumTransport one = new QuorumTransport(1, Map.of(1, first), (from, m) -> at1.add(new Received(from, m)))
                .start();
             QuorumTransport two = new QuorumTransport(2, Map.of(1, first, 2, joiner), (from, m) -> { }).start()) {
            // A stranger may ask (Apache answers a notification from any server id): that is how a joiner learns
            // whom to follow.
            assertTrue(await(() -> two.isConnected(1)), "a stranger's connection is taken");
            two.send(1, question);
            assertEquals(new Received(2, question), at1.poll(10, TimeUnit.SECONDS));
            // A joiner may speak as a learner (Apache's leader syncs any server that connects as one).
            ZabMessage.FollowerInfo asLearner = new ZabMessage.FollowerInfo(7, 0, 0, 0, false);
            two.send(1, asLearner);
            assertEquals(new Received(2, asLearner), at1.poll(10, TimeUnit.SECONDS));
            two.send(1, new ZabMessage.Commit(7, 1, 1));
            assertTrue(await(() -> !two.isConnected(1)),
                    "anything but a notification or a learner's message closes a stranger's connection");

            one.changeMembers(Map.of(1, first, 2, joiner));
            assertTrue(await(() -> one.isConnected(2) && two.isConnected(1)), "the joiner's redial is accepted");
            two.send(1, new ZabMessage.Ping(7, 1));
            assertEquals(new Received(2, new ZabMessage.Ping(7, 1)), at1.poll(10, TimeUnit.SECONDS));

            one.changeMembers(Map.of(1, first));
            // Apache's leader keeps a removed follower's LearnerHandler: it follows on as a non-voting participant.
            Thread.sleep(200);
            assertTrue(one.isConnected(2) && two.isConnected(1), "the removed member's connection stays open");
            two.send(1, new ZabMessage.Ping(7, 2));
            assertEquals(new Received(2, new ZabMessage.Ping(7, 2)), at1.poll(10, TimeUnit.SECONDS),
                    "a learner's messages still pass");
            two.send(1, new ZabMessage.Commit(7, 2, 1));
            assertTrue(await(() -> !two.isConnected(1)), "but now as a stranger's: no leader's message");
            assertEquals(null, at1.poll(200, TimeUnit.MILLISECONDS), "the commit was not delivered");
        }
    }

    @Test
    void shouldDialEveryKnownMemberWhileRemovedAndOnlyLowerIdsOnceBackIn() throws Exception {
        QuorumTransport.Peer low = new QuorumTransport.Peer(1, "127.0.0.1", freePort(), -1);
        QuorumTransport.Peer removed = new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1);
        QuorumTransport.Peer high = new QuorumTransport.Peer(3, "127.0.0.1", freePort(), -1);
        LinkedBlockingQueue<Received> at3 = new LinkedBlockingQueue<>();
        try (QuorumTransport three = new QuorumTransport(3, Map.of(1, low, 3, high),
                (from, m) -> at3.add(new Received(from, m))).start();
             QuorumTransport two = new QuorumTransport(2, Map.of(1, low, 2, removed, 3, high), (from, m) -> { })
                     .start()) {
            Thread.sleep(3 * QuorumTransport.RECONNECT_DELAY_MS); // a bound on a negative, not synchronisation
            assertFalse(two.isConnected(3), "a member never dials a higher id");
            two.asStranger(true);
            assertTrue(await(() -> two.isConnected(3)), "a removed member dials the higher ids too: they never dial it");
            ZabMessage.Notification question = new ZabMessage.Notification(2, 0, 0, 1, Role.LOOKING);
            two.send(3, question);
            assertEquals(new Received(2, question), at3.poll(10, TimeUnit.SECONDS));
            two.asStranger(false);
            three.changeMembers(Map.of(1, low, 2, removed, 3, high));
            assertTrue(await(() -> three.isConnected(2) && two.isConnected(3)), "named again: a member's connection");
            // The stranger's connection is replaced by the one server 3 dials: a ping on the old one may be lost.
            Received ping = null;
            for (int attempt = 0; attempt < 50 && ping == null; attempt++) {
                two.send(3, new ZabMessage.Ping(7, 1));
                ping = at3.poll(200, TimeUnit.MILLISECONDS);
            }
            assertEquals(new Received(2, new ZabMessage.Ping(7, 1)), ping, "a member's messages pass again");
        }
    }

    @Test
    void shouldDeliverABatchOfMessagesAsSeparateFramesInOrder() throws Exception {
        int port1 = freePort();
        int port2 = freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", port2, -1));
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> { }).start();
             QuorumTransport two = new QuorumTransport(2, peers, (from, m) -> at2.add(new Received(from, m))).start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(one.isConnected(2) && two.isConnected(1)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            java.util.List<ZabMessage> batch = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                batch.add(new ZabMessage.Proposal(7, 2 * i, Zxid.of(1, i + 1), new byte[i]));
                batch.add(new ZabMessage.Commit(7, 2 * i + 1, Zxid.of(1, i + 1)));
            }
            one.send(2, batch);
            one.send(2, new ZabMessage.Ping(7, 100));
            for (ZabMessage expected : batch) {
                Received received = at2.poll(10, TimeUnit.SECONDS);
                assertEquals(1, received.from());
                if (expected instanceof ZabMessage.Proposal proposal) {
                    ZabMessage.Proposal got = (ZabMessage.Proposal) received.message();
                    assertEquals(proposal.seq(), got.seq());
                    assertEquals(proposal.zxid(), got.zxid());
                    assertEquals(proposal.txn().length, got.txn().length);
                } else {
                    assertEquals(expected, received.message());
                }
            }
            assertEquals(new Received(1, new ZabMessage.Ping(7, 100)), at2.poll(10, TimeUnit.SECONDS),
                    "a single send after a batch arrives after all of it");
        }
    }

    @Test
    void shouldStreamASnapshotInBoundedChunksAndKeepLaterMessagesBehindIt() throws Exception {
        int port1 = freePort();
        int port2 = freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", port2, -1));
        LinkedBlockingQueue<Received> at2 = new LinkedBlockingQueue<>();
        byte[] snapshot = new byte[3_000_000];
        new java.util.Random(7).nextBytes(snapshot);
        java.nio.file.Path incoming = java.nio.file.Files.createTempDirectory("zab-incoming");
        // Frames of at most 64 KiB: the 3 MB snapshot can only arrive in chunks.
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> { }, 64 << 10)
                     .snapshotStreams(incoming.resolve("1"), 10_000).start();
             QuorumTransport two = new QuorumTransport(2, peers, (from, m) -> at2.add(new Received(from, m)), 64 << 10)
                     .snapshotStreams(incoming.resolve("2"), 10_000).start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(one.isConnected(2) && two.isConnected(1)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            java.util.List<LogEntry> entries = java.util.List.of(new LogEntry(Zxid.of(1, 10), new byte[] {1}));
            ZabMessage.Sync sync = new ZabMessage.Sync(7, 1, ZabMessage.SyncMode.SNAP, 0, Zxid.of(1, 9),
                    SnapshotData.of(snapshot), entries);
            one.send(2, java.util.List.of(new ZabMessage.Ping(7, 0), sync, new ZabMessage.NewLeader(7, 2, 1,
                    Zxid.of(1, 10))));
            one.send(2, new ZabMessage.Ping(7, 3)); // sent while the snapshot streams: must arrive after it

            assertEquals(new ZabMessage.Ping(7, 0), at2.poll(30, TimeUnit.SECONDS).message());
            ZabMessage.Sync got = (ZabMessage.Sync) at2.poll(30, TimeUnit.SECONDS).message();
            assertEquals(Zxid.of(1, 9), got.snapshotZxid());
            assertEquals(snapshot.length, got.snapshot().size());
            assertTrue(java.util.Arrays.equals(snapshot, got.snapshot().readAllBytes()), "snapshot bytes differ");
            assertEquals(1, got.entries().size());
            assertEquals(new ZabMessage.NewLeader(7, 2, 1, Zxid.of(1, 10)), at2.poll(30, TimeUnit.SECONDS).message());
            assertEquals(new ZabMessage.Ping(7, 3), at2.poll(30, TimeUnit.SECONDS).message());
            assertEquals(300, one.snapshotChunksSent());
            assertEquals(300, two.snapshotChunksReceived());
            got.snapshot().release();
            try (java.util.stream.Stream<java.nio.file.Path> left = java.nio.file.Files.list(incoming.resolve("2"))) {
                assertEquals(0, left.count(), "the received file is removed once released");
            }
        }
    }

    private static void writeFrame(DataOutputStream out, ByteBuf body) throws IOException {
        byte[] bytes = new byte[body.readableBytes()];
        body.readBytes(bytes);
        body.release();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    private static boolean closedByPeer(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        return in.read() == -1;
    }

    @Test
    void shouldCloseConnectionsWithUnknownIdsOrBadFramesAndKeepServingGoodOnes() throws Exception {
        int port1 = freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1));
        LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> received.add(new Received(from, m)))
                .start()) {
            try (Socket stranger = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(stranger.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 99);
                writeFrame(out, hello);
                ByteBuf commit = Unpooled.buffer();
                ZabCodec.write(new ZabMessage.Commit(1, 1, 1), commit);
                writeFrame(out, commit);
                assertTrue(closedByPeer(stranger),
                        "an unknown server id may send notifications and a learner's messages only");
            }
            List<Socket> strangers = new ArrayList<>();
            try {
                for (int id = 100; id < 100 + QuorumTransport.STRANGER_CONNECTIONS_MAX; id++) {
                    Socket socket = new Socket("127.0.0.1", port1);
                    strangers.add(socket);
                    ByteBuf hello = Unpooled.buffer();
                    ZabCodec.writeHello(hello, id);
                    writeFrame(new DataOutputStream(socket.getOutputStream()), hello);
                }
                assertTrue(await(() -> one.connectedCount() == QuorumTransport.STRANGER_CONNECTIONS_MAX));
                try (Socket oneTooMany = new Socket("127.0.0.1", port1)) {
                    ByteBuf hello = Unpooled.buffer();
                    ZabCodec.writeHello(hello, 200);
                    writeFrame(new DataOutputStream(oneTooMany.getOutputStream()), hello);
                    assertTrue(closedByPeer(oneTooMany), "strangers are bounded");
                }
            } finally {
                for (Socket socket : strangers) {
                    socket.close();
                }
            }
            try (Socket garbage = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(garbage.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                writeFrame(out, Unpooled.wrappedBuffer(new byte[] {42, 1, 2, 3}));
                assertTrue(closedByPeer(garbage), "a frame that does not decode closes the connection");
            }
            try (Socket oversized = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(oversized.getOutputStream());
                out.writeInt(Integer.MAX_VALUE);
                out.flush();
                assertTrue(closedByPeer(oversized), "a frame above the maximum closes the connection");
            }
            try (Socket good = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(good.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                ByteBuf ping = Unpooled.buffer();
                ZabCodec.write(new ZabMessage.Ping(5, 0), ping);
                writeFrame(out, ping);
                assertEquals(new Received(2, new ZabMessage.Ping(5, 0)), received.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void shouldCloseABrokenSnapshotStreamAndDeleteWhatItReceived() throws Exception {
        int port1 = freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", freePort(), -1));
        LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
        java.nio.file.Path incoming = java.nio.file.Files.createTempDirectory("zab-incoming");
        ByteBuf announce = Unpooled.buffer();
        ZabCodec.write(new ZabMessage.Sync(5, 0, ZabMessage.SyncMode.SNAP, 0, Zxid.of(1, 3),
                SnapshotData.of(new byte[1_000]), java.util.List.of()), announce);
        byte[] announced = new byte[announce.readableBytes()];
        announce.readBytes(announced);
        try (QuorumTransport one = new QuorumTransport(1, peers, (from, m) -> received.add(new Received(from, m)))
                .snapshotStreams(incoming, 100).start()) {
            try (Socket chunkFirst = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(chunkFirst.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                writeFrame(out, Unpooled.wrappedBuffer(new byte[] {ZabCodec.SNAPSHOT_CHUNK, 1, 2, 3}));
                assertTrue(closedByPeer(chunkFirst), "a chunk no SYNC announced closes the connection");
            }
            try (Socket interleaved = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(interleaved.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                writeFrame(out, Unpooled.wrappedBuffer(announced));
                writeFrame(out, Unpooled.buffer().writeByte(ZabCodec.SNAPSHOT_CHUNK).writeBytes(new byte[100]));
                ByteBuf ping = Unpooled.buffer();
                ZabCodec.write(new ZabMessage.Ping(5, 1), ping);
                writeFrame(out, ping);
                assertTrue(closedByPeer(interleaved), "another frame inside a snapshot closes the connection");
            }
            try (Socket tooLong = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(tooLong.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                writeFrame(out, Unpooled.wrappedBuffer(announced));
                writeFrame(out, Unpooled.buffer().writeByte(ZabCodec.SNAPSHOT_CHUNK).writeBytes(new byte[1_001]));
                assertTrue(closedByPeer(tooLong), "a chunk past the announced size closes the connection");
            }
            try (Socket cut = new Socket("127.0.0.1", port1)) {
                DataOutputStream out = new DataOutputStream(cut.getOutputStream());
                ByteBuf hello = Unpooled.buffer();
                ZabCodec.writeHello(hello, 2);
                writeFrame(out, hello);
                writeFrame(out, Unpooled.wrappedBuffer(announced));
                writeFrame(out, Unpooled.buffer().writeByte(ZabCodec.SNAPSHOT_CHUNK).writeBytes(new byte[100]));
            } // the sender goes away half way
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (one.snapshotChunksReceived() < 2 && System.nanoTime() - deadline < 0) {
                Thread.sleep(20); // the interleaved and the cut streams' first chunks reach their files
            }
            assertEquals(2, one.snapshotChunksReceived());
            long left;
            do {
                Thread.sleep(20);
                try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(incoming)) {
                    left = files.count();
                }
            } while (left > 0 && System.nanoTime() - deadline < 0);
            assertEquals(0, left, "partly received snapshots are deleted");
            assertEquals(null, received.poll(200, TimeUnit.MILLISECONDS), "nothing of a broken stream is delivered");
        }
    }
}
