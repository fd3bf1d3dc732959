package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.TestPorts;
import java.io.DataOutputStream;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A member that stops reading must not grow the leader's memory without bound (Tandem's own quorum protocol; the
 * Apache protocol's learner handler has its own bound): past {@link QuorumTransport#queuedBytesMax} bytes waiting for
 * its socket the connection is closed, so its Zab session ends and it re-syncs when it connects again. The peer here
 * is a real socket that says hello as server 2 and then reads nothing; the old transport queued every proposal for it
 * (the test fails: still connected after {@link #SENT_BYTES_MAX}).
 */
class QuorumStalledPeerTest {
    private static final long QUEUED_BYTES_MAX = 1 << 20;
    /** Far above the cap plus what loopback socket buffers absorb (a few MB), far below anything that hurts. */
    private static final long SENT_BYTES_MAX = 256L << 20;
    private static final int PROPOSAL_BYTES = 64 << 10;

    @Test
    void shouldDropAPeerThatStopsReadingOnceItsQueuePassesTheCap() throws Exception {
        int port1 = TestPorts.freePort();
        Map<Integer, QuorumTransport.Peer> peers = Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", port1, -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", TestPorts.freePort(), -1));
        LinkedBlockingQueue<String> links = new LinkedBlockingQueue<>();
        QuorumTransport.Inbound inbound = new QuorumTransport.Inbound() {
            @Override
            public void onMessage(int from, ZabMessage message) {
            }

            @Override
            public void onConnected(int peer) {
                links.add("up " + peer);
            }

            @Override
            public void onDisconnected(int peer) {
                links.add("down " + peer);
            }
        };
        try (QuorumTransport leader = new QuorumTransport(1, peers, inbound).queuedBytesMax(QUEUED_BYTES_MAX).start();
             Socket stalled = new Socket("127.0.0.1", port1)) {
            stalled.setReceiveBufferSize(64 << 10); // so the cap, not the kernel's buffers, takes most bytes
            hello(stalled, 2);
            assertEquals("up 2", links.poll(30, TimeUnit.SECONDS));

            byte[] txn = new byte[PROPOSAL_BYTES];
            long sent = 0;
            long queuedMost = 0;
            long zxid = 0;
            while (leader.isConnected(2)) {
                assertTrue(sent < SENT_BYTES_MAX, "still connected after " + sent + " bytes sent to a peer that reads"
                        + " nothing; " + leader.queuedBytes(2) + " queued");
                // One batch of two (the list path) and one alone, as the leader sends proposals and commits.
                leader.send(2, List.of(new ZabMessage.Proposal(1, ++zxid, zxid, txn),
                        new ZabMessage.Commit(1, zxid, zxid, 1)));
                leader.send(2, new ZabMessage.Ping(1, zxid));
                sent += PROPOSAL_BYTES;
                queuedMost = Math.max(queuedMost, leader.queuedBytes(2));
            }
            assertEquals("down 2", links.poll(30, TimeUnit.SECONDS), "the stalled peer is dropped");
            // What was queued when it was dropped: the cap, plus what the event loop encoded between two sends.
            assertTrue(queuedMost <= QUEUED_BYTES_MAX + 8L * PROPOSAL_BYTES, "queued at most " + queuedMost);

            // The member comes back (a new connection, where Zab syncs it afresh) and is served again.
            try (Socket back = new Socket("127.0.0.1", port1)) {
                hello(back, 2);
                assertEquals("up 2", links.poll(30, TimeUnit.SECONDS));
                leader.send(2, new ZabMessage.Ping(2, 1));
                back.setSoTimeout(10_000);
                java.io.DataInputStream in = new java.io.DataInputStream(back.getInputStream());
                int length = in.readInt();
                byte[] frame = new byte[length];
                in.readFully(frame);
                ZabMessage message = ZabCodec.read(Unpooled.wrappedBuffer(frame));
                assertEquals(new ZabMessage.Ping(2, 1), message);
            }
        }
    }

    private static void hello(Socket socket, int id) throws Exception {
        ByteBuf hello = Unpooled.buffer();
        ZabCodec.writeHello(hello, id);
        byte[] bytes = new byte[hello.readableBytes()];
        hello.readBytes(bytes);
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }
}
